#!/usr/bin/env bash
# Pre-deploy hook: back up before a deployment, print the command that rolls
# back to exactly this backup, and fail the deployment if the backup failed.
#
#   CAIRN_SOURCE=postgresql://deploy@db1/shop CAIRN_REPO=/srv/cairn/shop \
#       scripts/hooks/pre-deploy.sh DEPLOY-ID
#
# Environment: CAIRN_SOURCE, CAIRN_REPO (required); CAIRN (the binary,
# default "cairn"); CAIRN_WAIT_LOCK (how long to wait for a running backup,
# default 5m); the database password and CAIRN_PASSPHRASE as usual.  Exit
# code: cairn's (0 only when the backup is complete), so a pipeline can
# gate on it alone.
set -euo pipefail
deploy=${1:?usage: pre-deploy.sh DEPLOY-ID}
: "${CAIRN_SOURCE:?set CAIRN_SOURCE to the database URI}"
: "${CAIRN_REPO:?set CAIRN_REPO to the repository directory}"
cairn=${CAIRN:-cairn}
tag="before-deploy-$deploy"

set +e
out=$("$cairn" backup --source "$CAIRN_SOURCE" --repo "$CAIRN_REPO" --tag "$tag" \
      --wait-lock "${CAIRN_WAIT_LOCK:-5m}" --json)
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    echo "pre-deploy: the backup failed (cairn exit $rc): do not deploy" >&2
    exit "$rc"
fi
id=$(printf '%s' "$out" | sed -n 's/^  "id": "\(.*\)",$/\1/p' | head -n 1)
echo "pre-deploy: backup $id ($tag) is complete"
echo "to roll back to before this deployment:"
echo "  $cairn restore --repo $CAIRN_REPO --backup $tag --target <URI> --clean"
