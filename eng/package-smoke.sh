#!/usr/bin/env bash
# Packs every library into a temporary folder and builds and runs eng/package-smoke against those packages only (no
# project references): a new app that streams one change end to end. Exit status 0 when it did.
# Usage: eng/package-smoke.sh   (from anywhere; uses the repository it sits in)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
# A version of its own, so NuGet's package cache never serves an older build under the same number; removed after.
suffix="smoke.$(date +%s).$$"
version="$(sed -n 's:.*<VersionPrefix>\(.*\)</VersionPrefix>.*:\1:p' "$root/Directory.Build.props")-$suffix"
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
cleanup() {
  rm -rf "$work"
  for id in rocket.jsonpatch rocket.core rocket.aspnetcore rocket.transports.sse rocket.transports.websockets rocket.transports.signalr rocket.redis rocket.client rocket.client.signalr rocket.postgres; do
    rm -rf "$packages/$id/$version"
  done
}
trap cleanup EXIT

for proj in "$root"/Rocket.*/Rocket.*.csproj; do
  grep -q '<IsPackable>true</IsPackable>' "$proj" || continue
  # After test.sh's Release build the assemblies are there: packed as built (their file version says preview.1).
  name=$(basename "$proj" .csproj)
  no_build=()
  [ -f "$(dirname "$proj")/bin/Release/net10.0/$name.dll" ] && no_build=(--no-build)
  dotnet pack "$proj" -c Release "${no_build[@]}" -o "$work/feed" -p:VersionSuffix="$suffix" --nologo -v quiet >"$work/pack.log" 2>&1 \
    || { cat "$work/pack.log"; echo "package-smoke: packing $(basename "$proj") failed" >&2; exit 1; }
done
for nupkg in "$work"/feed/*.nupkg; do
  # Every package carries its README, license and repository, and a symbols package beside it.
  unzip -p "$nupkg" '*.nuspec' | grep -q '<readme>README.md</readme>' || { echo "package-smoke: $nupkg has no README" >&2; exit 1; }
  unzip -p "$nupkg" '*.nuspec' | grep -q '<license type="expression">' || { echo "package-smoke: $nupkg has no license" >&2; exit 1; }
  unzip -p "$nupkg" '*.nuspec' | grep -q '<repository ' || { echo "package-smoke: $nupkg has no repository" >&2; exit 1; }
  [ -f "${nupkg%.nupkg}.snupkg" ] || { echo "package-smoke: $nupkg has no symbols package" >&2; exit 1; }
done

# The client stands alone: it depends on the JSON Patch package, never on the server's packages.
client_deps=$(unzip -p "$work"/feed/Rocket.Client.[0-9]*.nupkg '*.nuspec' | grep -o 'dependency id="[^"]*"' || true)
echo "$client_deps" | grep -q '"Rocket.JsonPatch"' || { echo "package-smoke: Rocket.Client does not depend on Rocket.JsonPatch" >&2; exit 1; }
if echo "$client_deps" | grep -q '"Rocket.Core"'; then echo "package-smoke: Rocket.Client depends on Rocket.Core" >&2; exit 1; fi

mkdir "$work/app"
cp "$root"/eng/package-smoke/*.cs "$root"/eng/package-smoke/*.csproj "$work/app/"
# The app sits outside the repository, so none of its Directory.*.props apply; its only Rocket source is the feed.
cat >"$work/app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="rocket" value="$work/feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="rocket"><package pattern="Rocket.*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
XML
cd "$work/app"
dotnet build -c Release -p:RocketVersion="$version" --nologo -v quiet >"$work/build.log" 2>&1 \
  || { cat "$work/build.log"; echo "package-smoke: the app did not build against the packages" >&2; exit 1; }
dotnet bin/Release/net10.0/PackageSmoke.dll
