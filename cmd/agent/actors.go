package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/procagent/procagent/procagent"
)

// actorsFile is the --actors file: actors to create at boot.
type actorsFile struct {
	Actors []bootActor `yaml:"actors"`
}

type bootActor struct {
	ID     string         `yaml:"id"`
	Type   string         `yaml:"type"`
	Rank   uint64         `yaml:"rank"`
	Params map[string]any `yaml:"params"`
}

// readActorsFile parses an actors file (YAML, or JSON as YAML reads it).
func readActorsFile(path string) ([]bootActor, error) {
	b, err := os.ReadFile(path) //nolint:gosec // the operator names the file
	if err != nil {
		return nil, fmt.Errorf("read actors file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f actorsFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse actors file %s: %w", path, err)
	}
	return f.Actors, nil
}

// createBootActors creates the actors of an actors file through the agent,
// exactly as CreateOrUpdate calls would.
func createBootActors(agent *procagent.Agent, path string, log *slog.Logger) error {
	actors, err := readActorsFile(path)
	if err != nil {
		return err
	}
	for _, a := range actors {
		var params []byte
		if a.Params != nil {
			if params, err = json.Marshal(a.Params); err != nil {
				return fmt.Errorf("actor %q params: %w", a.ID, err)
			}
		}
		st, err := agent.CreateOrUpdate(a.ID, a.Rank, procagent.Spec{ActorType: a.Type, Params: params})
		if err != nil {
			return fmt.Errorf("create actor %q: %w", a.ID, err)
		}
		log.Info("boot actor", "actor", a.ID, "type", a.Type, "status", st.Status, "reason", st.FailureReason)
	}
	return nil
}
