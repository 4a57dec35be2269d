package dashgen

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
)

// NamesFile is the names table, relative to the module root.
const NamesFile = "telemetry/names.go"

// Family is one metric family of the names table: its Prometheus name (a pattern such as
// "go_*" for the families other libraries emit), its kind (gauge, counter, histogram or
// various) and its help text.
type Family struct {
	Prom string
	Kind string
	Help string
}

// LoadFamilies reads the names table under the module root: every metricSpec literal of
// telemetry/names.go, in the order of the file. It fails when the file has none.
func LoadFamilies(root string) ([]Family, error) {
	path := filepath.Join(root, NamesFile)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("load families: %w", err)
	}
	var (
		fams []Family
		errs []error
	)
	seen := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		if id, ok := lit.Type.(*ast.Ident); !ok || id.Name != "metricSpec" {
			return true
		}
		fam, err := familyOf(lit)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", fset.Position(lit.Pos()), err))
			return false
		}
		if fam.Prom != "" && !seen[fam.Prom] {
			seen[fam.Prom] = true
			fams = append(fams, fam)
		}
		return false
	})
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("load families: %w", err)
	}
	if len(fams) == 0 {
		return nil, fmt.Errorf("load families: no metricSpec in %s", path)
	}
	return fams, nil
}

// familyOf reads the Prom, Kind and Help fields of one metricSpec literal.
func familyOf(lit *ast.CompositeLit) (Family, error) {
	var fam Family
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			return fam, errors.New("metricSpec literal without field names")
		}
		key, ok := kv.Key.(*ast.Ident)
		if !ok {
			continue
		}
		var dst *string
		switch key.Name {
		case "Prom":
			dst = &fam.Prom
		case "Kind":
			dst = &fam.Kind
		case "Help":
			dst = &fam.Help
		default:
			continue
		}
		s, err := stringValue(kv.Value)
		if err != nil {
			return fam, fmt.Errorf("field %s: %w", key.Name, err)
		}
		*dst = s
	}
	return fam, nil
}

// stringValue evaluates a string literal or a concatenation of them.
func stringValue(e ast.Expr) (string, error) {
	switch v := e.(type) {
	case *ast.BasicLit:
		if v.Kind != token.STRING {
			return "", fmt.Errorf("%s is not a string", v.Value)
		}
		return strconv.Unquote(v.Value)
	case *ast.BinaryExpr:
		if v.Op != token.ADD {
			return "", fmt.Errorf("operator %s in a string", v.Op)
		}
		l, err := stringValue(v.X)
		if err != nil {
			return "", err
		}
		r, err := stringValue(v.Y)
		if err != nil {
			return "", err
		}
		return l + r, nil
	case *ast.ParenExpr:
		return stringValue(v.X)
	default:
		return "", fmt.Errorf("%T is not a string literal", e)
	}
}

// helpOf returns the help text of the family named prom, or an error naming it.
func helpOf(fams []Family, prom string) (string, error) {
	for _, f := range fams {
		if f.Prom == prom {
			return f.Help, nil
		}
	}
	return "", fmt.Errorf("metric family %s is not in %s", prom, NamesFile)
}
