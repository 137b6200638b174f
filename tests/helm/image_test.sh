#!/usr/bin/env bash
# deploy/docker/Dockerfile cannot be built here (no Docker engine), so this checks what can be
# checked against the binaries the tests build: the runtime stage installs the Debian package of
# every shared library the five binaries link directly, the build stage builds exactly these
# targets after bazel/setup, and it installs them under the names the Helm chart runs.
# Arguments: NAME=PATH for each binary (tenant, vault, governance, edge, bastionctl).
set -uo pipefail
dockerfile=deploy/docker/Dockerfile
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Packages the runtime stage installs (the apt-get line of the last stage), plus debian:bookworm-slim's own.
runtime=$(awk '/^FROM /{stage++} {print stage "\t" $0}' "$dockerfile" | awk -F'\t' -v last="$(grep -c '^FROM ' "$dockerfile")" '$1==last {print $2}' |
  sed -n '/apt-get install/,/rm -rf/p' | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|update|groupadd|useradd)$')
base="libc6 libgcc-s1 libstdc++6"
grep -q '^RUN bazel/setup$' "$dockerfile" || fail "the build stage does not run bazel/setup"

declare -A lib_path   # soname -> file, over all binaries
declare -A linked_by  # soname -> binaries linking it
for spec in "$@"; do
  name=${spec%%=*}
  bin=${spec#*=}
  case $name in
    bastionctl) target=//services/ctl:bastionctl; installed=/out/bastionctl ;;
    *) target=//services/$name:$name; installed=/out/bastion-$name ;;
  esac
  grep -qE "^      $target( |\$)" "$dockerfile" || fail "the Dockerfile does not build $target"
  grep -qE "install -m 0755 bazel-bin/[a-z/]+ +$installed( |\$)" "$dockerfile" || fail "the Dockerfile does not install $name as $installed"
  declare -A resolved=()
  while read -r soname _ path _; do resolved[$soname]=$path; done < <(ldd "$bin" | grep '=>')
  for lib in $(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
    case $lib in ld-linux*) continue ;; esac
    [ -n "${resolved[$lib]:-}" ] || { fail "$name links $lib, which ldd cannot find"; continue; }
    lib_path[$lib]=${resolved[$lib]}
    linked_by[$lib]="${linked_by[$lib]:-} $name"
  done
  unset resolved
done

# One dpkg query for every library file; with merged /usr a file may be recorded under /lib.
declare -A owner
files=()
for lib in "${!lib_path[@]}"; do
  real=$(realpath "${lib_path[$lib]}")
  files+=("$real" "${real#/usr}")
done
while IFS= read -r line; do
  pkg=${line%%: *}
  owner[${line#*: }]=${pkg%%:*}
done < <(dpkg -S "${files[@]}" 2>/dev/null)
for lib in "${!lib_path[@]}"; do
  real=$(realpath "${lib_path[$lib]}")
  pkg=${owner[$real]:-${owner[${real#/usr}]:-}}
  [ -n "$pkg" ] || { fail "$lib (linked by${linked_by[$lib]}) belongs to no Debian package"; continue; }
  grep -qx "$pkg" <<<"$runtime" || [[ " $base " == *" $pkg "* ]] ||
    fail "$lib (linked by${linked_by[$lib]}) comes from $pkg, which the runtime stage does not install"
done
# The chart runs /usr/local/bin/bastion-<component>.
grep -q '/usr/local/bin/bastion-{{ .component }}' deploy/helm/bastion/templates/_helpers.tpl ||
  fail "the chart no longer runs /usr/local/bin/bastion-<component>; align it with the Dockerfile"
grep -q '^COPY --from=build /out/ /usr/local/bin/$' "$dockerfile" || fail "the binaries are not copied to /usr/local/bin"
grep -qE '^USER [1-9][0-9]*:[1-9][0-9]*$' "$dockerfile" || fail "the runtime user is not a numeric non-root uid:gid"

echo "runtime packages: $(echo $runtime)"
[ "$failures" -eq 0 ] && echo "image test: all checks passed"
[ "$failures" -eq 0 ]
