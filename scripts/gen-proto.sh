#!/usr/bin/env bash
# gen-proto.sh lints the .proto sources under proto/ and regenerates the Go
# code beside them (`make generate` runs it). buf is pinned here and in
# scripts/tools.sh, and installed into .tools/bin on first use; the protoc
# plugins run through the go.mod tool block, so go.mod pins them.
#
# BUF may name another buf binary; it must be the pinned version.
set -euo pipefail

BUF_VERSION="v1.75.0"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
default_buf="$root/.tools/bin/buf"
buf="${BUF:-$default_buf}"
[[ "$buf" == /* ]] || buf="$root/$buf"

# buf --version prints the version without the leading "v".
buf_version() { "$buf" --version 2>/dev/null || true; }

if [[ ! -x "$buf" || "$(buf_version)" != "${BUF_VERSION#v}" ]]; then
	if [[ "$buf" != "$default_buf" ]]; then
		echo "gen-proto: $buf is not buf ${BUF_VERSION} (got '$(buf_version)')" >&2
		exit 1
	fi
	echo "gen-proto: installing buf ${BUF_VERSION} into .tools/bin" >&2
	GOBIN="$root/.tools/bin" go install "github.com/bufbuild/buf/cmd/buf@${BUF_VERSION}"
fi

cd proto
"$buf" lint
"$buf" generate
