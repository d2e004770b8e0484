#!/usr/bin/env bash
# `npm run migration:new -- <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql with
# the SQL that takes the schema of the last migration to the current prisma/schema.prisma.
# (`prisma migrate dev` needs a downloaded engine; `migrate diff` between two datamodels does not.)
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: npm run migration:new -- <name>}"
[[ "$name" =~ ^[a-z0-9_]+$ ]] || { echo "migration names are lower_snake_case"; exit 1; }

# The schema as of the newest commit that touched the migrations is what they produce.
previous=$(mktemp --suffix=.prisma)
trap 'rm -f "$previous"' EXIT
last_commit=$(git log -1 --format=%H -- prisma/migrations)
git show "$last_commit:prisma/schema.prisma" > "$previous"

dir="prisma/migrations/$(date -u +%Y%m%d%H%M%S)_${name}"
mkdir -p "$dir"
npx prisma migrate diff --from-schema-datamodel "$previous" --to-schema-datamodel prisma/schema.prisma --script > "$dir/migration.sql"
if ! grep -qv '^--' "$dir/migration.sql" || [ "$(grep -cv '^\(--.*\)\?$' "$dir/migration.sql")" = 0 ]; then
  rm -rf "$dir"; echo "schema.prisma has no changes since the last migration"; exit 0
fi
echo "wrote $dir/migration.sql; review it, then run npm test (the drift test compares it with schema.prisma)"
