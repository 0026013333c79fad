#!/usr/bin/env bash
# Builds oneTBB with ThreadSanitizer into build/tbb-tsan (once; reused while its stamp matches).
# Debian's libtbb is not instrumented, so TSan cannot see its hand-offs between threads and would
# report races in our code that oneTBB orders: the tsan preset links this build instead. The source
# is Debian's own package (apt-get source, the version of the installed libtbb-dev).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$PWD/build/tbb-tsan
version=$(dpkg-query -W -f='${Version}' libtbb-dev)
if [ -f "$prefix/.stamp" ] && [ "$(cat "$prefix/.stamp")" = "$version" ]; then exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# deb-src entries mirroring the machine's deb ones, in a private apt configuration.
mkdir -p "$work/apt/parts" "$work/apt/lists/partial"
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && sed 's/^Types: deb$/Types: deb-src/' "$f" >"$work/apt/parts/$(basename "$f")"
done
if [ -f /etc/apt/sources.list ]; then
  sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list >"$work/apt/parts/list.list"
fi
aptopts=(-o Dir::Etc::sourceparts="$work/apt/parts" -o Dir::Etc::sourcelist=/dev/null
         -o Dir::State::Lists="$work/apt/lists" -o APT::Sandbox::User=root)
command -v dpkg-source >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dpkg-dev >/dev/null; }
apt-get "${aptopts[@]}" update -qq
(cd "$work" && apt-get "${aptopts[@]}" source -qq "onetbb=$version" >/dev/null)
src=$(find "$work" -maxdepth 1 -type d -name 'onetbb-*' | head -1)
cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTBB_TEST=OFF -DTBB_EXAMPLES=OFF \
  -DTBB_STRICT=OFF -DTBB_SANITIZE=thread -DTBBMALLOC_BUILD=OFF -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
cmake --build "$work/build" -j2 >/dev/null
rm -rf "$prefix"
cmake --install "$work/build" >/dev/null
echo "$version" >"$prefix/.stamp"
echo "build-tbb-tsan: oneTBB $version with ThreadSanitizer in $prefix"
