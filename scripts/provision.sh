#!/usr/bin/env bash
# Provision the real servers the integration tests need when Docker is absent:
#   - RabbitMQ from Debian's rabbitmq-server package (installed once);
#   - PostgreSQL from Debian's postgresql package (installed once), FerretDB's backend;
#   - FerretDB v1.24.2 (MongoDB wire protocol) built from its Go module.
# Idempotent: a second run finds both and does nothing. Everything is cached
# outside the repo, under $RELEASEGATE_CACHE (default ~/.cache/releasegate).
set -euo pipefail

CACHE="${RELEASEGATE_CACHE:-$HOME/.cache/releasegate}"
FERRETDB_VERSION="${FERRETDB_VERSION:-v1.24.2}"
FERRETDB_BIN="$CACHE/ferretdb-$FERRETDB_VERSION/ferretdb"
mkdir -p "$CACHE"

log() { printf '[provision] %s\n' "$*" >&2; }

# FerretDB v1.24's go.mod says `go 1.24`: an older go stops deep into the build, with
# an error that does not say so. Debian 12's golang-go is 1.19.
GO_MIN_MINOR=24
need_go() {
  log "FerretDB $FERRETDB_VERSION is built with Go >= 1.$GO_MIN_MINOR; $1."
  log "Install Go 1.$GO_MIN_MINOR or newer from https://go.dev/dl/ (Debian 12's golang-go is 1.19, too old) and put its bin/ on PATH."
  exit 1
}
check_go() {
  command -v go >/dev/null 2>&1 || need_go "no go on PATH"
  go_version="$(go version 2>/dev/null | awk '{print $3}' || true)"   # "go version go1.24.3 linux/amd64"
  go_minor="$(printf '%s' "$go_version" | sed -n 's/^go1\.\([0-9][0-9]*\).*/\1/p')"
  [ -n "$go_minor" ] && [ "$go_minor" -ge "$GO_MIN_MINOR" ] || need_go "found ${go_version:-an unknown go version}"
}
# Checked first, before any package is installed.
[ -x "$FERRETDB_BIN" ] || check_go

# Docker present and working: testcontainers will be used instead.
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  log "docker engine available: tests use testcontainers"
fi

if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
  log "installing rabbitmq-server (Debian package)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
  # The package starts a system node; ours run as private nodes, so stop it.
  $SUDO systemctl stop rabbitmq-server >/dev/null 2>&1 || $SUDO service rabbitmq-server stop >/dev/null 2>&1 || true
  $SUDO pkill -f 'beam.*rabbit@' >/dev/null 2>&1 || true
else
  log "rabbitmq-server present"
fi

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  log "installing postgresql (Debian package)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  # The package starts a system cluster; ours are private clusters, so stop it.
  $SUDO systemctl stop postgresql >/dev/null 2>&1 || $SUDO service postgresql stop >/dev/null 2>&1 || true
else
  log "postgresql present"
fi

if [ ! -x "$FERRETDB_BIN" ]; then
  log "building FerretDB $FERRETDB_VERSION from its Go module"
  src="$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  work="$CACHE/ferretdb-src-$FERRETDB_VERSION"
  rm -rf "$work"; cp -r "$src" "$work"; chmod -R u+w "$work"
  # The module zip lacks the generated version file; without it the binary panics at start.
  printf '%s' "$FERRETDB_VERSION" > "$work/build/version/version.txt"
  mkdir -p "$(dirname "$FERRETDB_BIN")"
  (cd "$work" && GOFLAGS=-mod=mod go build -trimpath -o "$FERRETDB_BIN" ./cmd/ferretdb)
  rm -rf "$work"
else
  log "FerretDB present at $FERRETDB_BIN"
fi
"$FERRETDB_BIN" --version >/dev/null 2>&1 || { log "FerretDB binary does not start"; exit 1; }
log "ready"
