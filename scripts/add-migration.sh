#!/usr/bin/env bash
# Adds an EF Core migration to every database provider's migrations set:
#   scripts/add-migration.sh AddSomething
# PROVIDERS="Postgres" limits it to one provider. It drives the EF tools' ef.dll from the Microsoft.EntityFrameworkCore.Tools package (restored with the
# server), so no global dotnet-ef tool is needed.
set -euo pipefail
name=${1:?usage: scripts/add-migration.sh MigrationName}
root=$(cd "$(dirname "$0")/.." && pwd)
project=$root/src/Whisper.Server
dotnet build "$project" -c Debug -p:SkipWebBuild=true -v quiet -nologo >/dev/null
packages=${NUGET_PACKAGES:-$HOME/.nuget/packages}
version=$(sed -n 's/.*<EfCoreVersion>\(.*\)<\/EfCoreVersion>.*/\1/p' "$root/Directory.Packages.props")
ef=$(ls "$packages"/microsoft.entityframeworkcore.tools/"$version"/tools/net*/any/ef.dll | tail -n 1)
out=$project/bin/Debug/net10.0
for provider in ${PROVIDERS:-Sqlite Postgres}; do
  dotnet exec --depsfile "$out/Whisper.Server.deps.json" --runtimeconfig "$out/Whisper.Server.runtimeconfig.json" \
    --additionalprobingpath "$packages" "$ef" migrations add "$name" \
    --assembly "$out/Whisper.Server.dll" --startup-assembly "$out/Whisper.Server.dll" \
    --project "$project/Whisper.Server.csproj" --project-dir "$project/" --root-namespace Whisper.Server \
    --context "${provider}WhisperDbContext" --output-dir "Data/Migrations/$provider" --language C# --working-dir "$project"
done
