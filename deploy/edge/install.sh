#!/usr/bin/env bash
# Installs, upgrades or removes the GridWatch edge agent on Raspberry Pi OS / Debian (arm64, armv7,
# x86_64). Config (/etc/gridwatch) and data — the outbox with undelivered alarms —
# (/var/lib/gridwatch) survive upgrade and uninstall; only `uninstall --purge` deletes them.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: install.sh COMMAND [options]

Commands:
  install     install the agent, the gridwatch CLI, a system user and the systemd unit
  upgrade     replace the agent with a new package; config and outbox are kept
  uninstall   remove the agent and unit; config and outbox are kept unless --purge

Options:
  --from DIR|FILE.tar.gz  the package built by `npm run package -- edge` (install, upgrade)
  --root DIR              install into DIR instead of / (images, tests); services are not started
  --memory-max SIZE       systemd MemoryMax for the agent (default 256M)
  --no-start              install and enable, but do not start the service
  --purge                 with uninstall: also delete /etc/gridwatch and /var/lib/gridwatch
  -h, --help              show this help

Exit codes: 0 done, 1 failed (the message says what to fix), 2 wrong usage.
USAGE
}

die() { echo "install.sh: $*" >&2; exit 1; }
usage_error() { echo "install.sh: $*" >&2; echo "Run install.sh --help for usage." >&2; exit 2; }
step() { echo "==> $*"; }

COMMAND=""
FROM=""
ROOT="/"
MEMORY_MAX="256M"
START=1
PURGE=0
while [ $# -gt 0 ]; do
  case "$1" in
    install|upgrade|uninstall) COMMAND="$1" ;;
    --from) FROM="${2:-}"; shift ;;
    --root) ROOT="${2:-}"; shift ;;
    --memory-max) MEMORY_MAX="${2:-}"; shift ;;
    --no-start) START=0 ;;
    --purge) PURGE=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown argument: $1" ;;
  esac
  shift
done
[ -n "$COMMAND" ] || usage_error "no command given"
[[ "$MEMORY_MAX" =~ ^[0-9]+[KMG]?$ ]] || usage_error "--memory-max: expected a size like 256M, got '$MEMORY_MAX'"
[ -d "$ROOT" ] || die "--root $ROOT does not exist"
ROOT="$(cd "$ROOT" && pwd)"
R="${ROOT%/}"   # prefix for every path we touch; empty for the real root

SERVICE_USER=gridwatch
APP_BASE=/opt/gridwatch/edge
CONFIG_DIR=/etc/gridwatch
DATA_DIR=/var/lib/gridwatch
UNIT=/etc/systemd/system/gridwatch-edge.service
BIN_DIR=/usr/local/bin
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

[ "$(id -u)" -eq 0 ] || die "run as root (sudo bash install.sh $COMMAND …): it creates a system user and a systemd unit"

check_platform() {
  local arch
  arch="$(uname -m)"
  case "$arch" in
    aarch64|arm64|armv7l|x86_64) ;;
    *) die "unsupported architecture $arch: GridWatch edge supports arm64, armv7 and x86_64" ;;
  esac
  if [ -z "$R" ]; then
    command -v node >/dev/null || die "Node.js ≥ 20 is missing: apt-get install nodejs (Debian 13) or install Node 20 from your distribution's backports, then rerun"
    local major
    major="$(node -p 'process.versions.node.split(".")[0]')"
    [ "$major" -ge 20 ] || die "Node.js $(node --version) is too old: GridWatch needs ≥ 20"
  fi
}

# Resolves --from (a folder or a .tar.gz) into a folder holding package.json and dist/.
unpack_package() {
  [ -n "$FROM" ] || usage_error "$COMMAND needs --from: the folder or tarball made by 'npm run package -- edge'"
  if [ -f "$FROM" ]; then
    local tmp
    tmp="$(mktemp -d)"
    tar -xzf "$FROM" -C "$tmp"
    PKG="$tmp"
    [ -f "$PKG/package.json" ] || PKG="$(dirname "$(find "$tmp" -maxdepth 2 -name package.json | head -n1)")"
  else
    PKG="$FROM"
  fi
  [ -f "$PKG/package.json" ] && [ -f "$PKG/dist/gridwatch-edge.mjs" ] \
    || die "$FROM is not an edge package (no package.json and dist/gridwatch-edge.mjs): build one with 'npm run package -- edge'"
  VERSION="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$PKG/package.json" | head -n1)"
  [ -n "$VERSION" ] || die "$PKG/package.json has no version"
}

ensure_user() {
  local prefix=()
  [ -n "$R" ] && prefix=(--prefix "$ROOT")
  if ! grep -q "^${SERVICE_USER}:" "$R/etc/passwd" 2>/dev/null; then
    step "creating system user $SERVICE_USER (member of dialout for serial ports)"
    useradd "${prefix[@]}" --system --user-group --home-dir "$DATA_DIR" --no-create-home \
      --shell /usr/sbin/nologin --comment "GridWatch edge agent" "$SERVICE_USER"
  fi
  grep -q '^dialout:' "$R/etc/group" || groupadd "${prefix[@]}" --system dialout
  usermod "${prefix[@]}" --append --groups dialout "$SERVICE_USER"
}

# chown by the ids in the target's passwd/group, which may differ from this machine's.
owner_ids() {
  local uid gid
  uid="$(awk -F: -v u="$SERVICE_USER" '$1 == u { print $3 }' "$R/etc/passwd")"
  gid="$(awk -F: -v g="$SERVICE_USER" '$1 == g { print $3 }' "$R/etc/group")"
  [ -n "$uid" ] && [ -n "$gid" ] || die "user $SERVICE_USER is missing from $R/etc/passwd"
  echo "$uid:$gid"
}

install_app() {
  local target="$R$APP_BASE/$VERSION"
  step "installing gridwatch-edge $VERSION into $APP_BASE/$VERSION"
  rm -rf "$target.new"
  mkdir -p "$target.new"
  cp -a "$PKG/." "$target.new/"
  if [ ! -d "$target.new/node_modules" ]; then
    command -v npm >/dev/null || die "the package has no node_modules and npm is missing: install npm, or build the package with --with-node-modules on this architecture"
    step "installing npm dependencies for $(uname -m) (this can take a few minutes on a Pi)"
    (cd "$target.new" && npm install --omit=dev --no-audit --no-fund)
  fi
  chown -R 0:0 "$target.new"
  chmod -R go-w "$target.new"
  rm -rf "$target"
  mv "$target.new" "$target"
  # Switch atomically: the service always starts either the old or the new version, never a mix.
  ln -sfn "$VERSION" "$R$APP_BASE/current.new"
  mv -T "$R$APP_BASE/current.new" "$R$APP_BASE/current"

  mkdir -p "$R$BIN_DIR"
  for name in gridwatch gridwatch-edge; do
    cat > "$R$BIN_DIR/$name" <<WRAPPER
#!/bin/sh
# GridWatch edge $name, installed by deploy/edge/install.sh
exec node $APP_BASE/current/dist/gridwatch-edge.mjs "\$@"
WRAPPER
    chmod 0755 "$R$BIN_DIR/$name"
  done
}

install_folders() {
  local ids="$1"
  step "config in $CONFIG_DIR, data in $DATA_DIR"
  mkdir -p "$R$CONFIG_DIR" "$R$DATA_DIR"
  chown "0:${ids#*:}" "$R$CONFIG_DIR"
  chmod 0750 "$R$CONFIG_DIR"
  if [ ! -f "$R$CONFIG_DIR/edge.yaml" ]; then
    install -m 0640 -o 0 -g "${ids#*:}" "$HERE/edge.yaml.example" "$R$CONFIG_DIR/edge.yaml"
    echo "    wrote $CONFIG_DIR/edge.yaml from the example: set the gateway id, site and cloud credential"
  fi
  chown "$ids" "$R$DATA_DIR"
  chmod 0750 "$R$DATA_DIR"
}

install_unit() {
  step "systemd unit $UNIT (MemoryMax=$MEMORY_MAX)"
  mkdir -p "$(dirname "$R$UNIT")"
  sed "s/^MemoryMax=.*/MemoryMax=$MEMORY_MAX/" "$HERE/gridwatch-edge.service" > "$R$UNIT.tmp"
  chmod 0644 "$R$UNIT.tmp"
  mv "$R$UNIT.tmp" "$R$UNIT"
}

systemd_enable() {
  if [ -n "$R" ]; then
    systemctl --root="$ROOT" enable gridwatch-edge.service
  else
    systemctl daemon-reload
    systemctl enable gridwatch-edge.service
    if [ "$START" -eq 1 ]; then systemctl restart gridwatch-edge.service; fi
  fi
}

do_install() {
  check_platform
  unpack_package
  ensure_user
  local ids
  ids="$(owner_ids)"
  install_app
  install_folders "$ids"
  install_unit
  systemd_enable
  step "done: gridwatch-edge $VERSION installed$([ -n "$R" ] && echo " in $ROOT")"
  [ -n "$R" ] || echo "    check it with: systemctl status gridwatch-edge; journalctl -u gridwatch-edge -f"
}

do_upgrade() {
  [ -f "$R$UNIT" ] || die "gridwatch-edge is not installed${R:+ in $ROOT}: use install"
  local previous=""
  [ -L "$R$APP_BASE/current" ] && previous="$(readlink "$R$APP_BASE/current")"
  do_install
  # Keep the previous version for a manual rollback (ln -sfn OLD current), drop older ones.
  for dir in "$R$APP_BASE"/*/; do
    local name
    name="$(basename "$dir")"
    [ "$name" = "$VERSION" ] || [ "$name" = "$previous" ] || [ "$name" = "current" ] || rm -rf "$dir"
  done
}

do_uninstall() {
  step "removing gridwatch-edge"
  if [ -n "$R" ]; then
    [ -f "$R$UNIT" ] && systemctl --root="$ROOT" disable gridwatch-edge.service || true
  else
    systemctl disable --now gridwatch-edge.service || true
  fi
  rm -f "$R$UNIT" "$R$BIN_DIR/gridwatch" "$R$BIN_DIR/gridwatch-edge"
  rm -rf "$R$APP_BASE"
  [ -n "$R" ] || systemctl daemon-reload
  if [ "$PURGE" -eq 1 ]; then
    step "purging $CONFIG_DIR and $DATA_DIR (the outbox and any undelivered alarms)"
    rm -rf "$R$CONFIG_DIR" "$R$DATA_DIR"
    userdel ${R:+--prefix "$ROOT"} "$SERVICE_USER" 2>/dev/null || true
  else
    echo "    kept $CONFIG_DIR and $DATA_DIR; remove them with uninstall --purge"
  fi
}

case "$COMMAND" in
  install) do_install ;;
  upgrade) do_upgrade ;;
  uninstall) do_uninstall ;;
esac
