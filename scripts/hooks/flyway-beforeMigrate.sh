#!/usr/bin/env bash
# A Flyway callback (put it where flyway.locations points, as
# beforeMigrate.sh): Flyway runs it before every migrate and stops the
# migration when it fails, so no migration runs without a backup to return to.
# It uses the generic pre-deploy hook with Flyway's own names:
# CAIRN_SOURCE and CAIRN_REPO must be set in Flyway's environment.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/pre-deploy.sh" "flyway-$(date -u +%Y%m%dT%H%M%SZ)"
