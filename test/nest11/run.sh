#!/usr/bin/env bash
# Proves nestjs-mesa works with Nest 11 (its peer range is ^11 || ^12): installs @nestjs/common, core,
# testing and platform-express ^11 into .nest11/ (outside the repo's node_modules, ignored by git),
# then runs test/nest11/*.e2e-spec.ts with jest resolving @nestjs/* there (test/nest11/jest.config.js).
# Needs redis-server on PATH, like the other e2e tests. Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/../.."

prefix=.nest11
packages=(@nestjs/common@^11 @nestjs/core@^11 @nestjs/testing@^11 @nestjs/platform-express@^11)
stamp="$prefix/.installed"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "${packages[*]}" ]; then
  echo "nest11: installing ${packages[*]} into $prefix/"
  rm -rf "$prefix"
  mkdir -p "$prefix"
  printf '*\n' > "$prefix/.gitignore"
  echo '{ "name": "nestjs-mesa-nest11", "private": true }' > "$prefix/package.json"
  # rxjs and reflect-metadata are peers: --legacy-peer-deps keeps them single, resolved from the repo.
  npm install --prefix "$prefix" --no-audit --no-fund --legacy-peer-deps --loglevel=error "${packages[@]}"
  echo "${packages[*]}" > "$stamp"
fi
for name in common core testing platform-express; do
  echo "nest11: @nestjs/$name $(node -p "require('./$prefix/node_modules/@nestjs/$name/package.json').version")"
done

NODE_OPTIONS=--experimental-vm-modules npx jest -c test/nest11/jest.config.js --runInBand "$@"
