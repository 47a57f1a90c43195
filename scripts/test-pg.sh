#!/bin/sh
# The integration tests that run again on PostgreSQL (CCL_TEST_STORE=postgres): every file whose behaviour depends on
# the store (links, consent, keys, calls, kept Tasks, refresh and keepalive, concurrency). The store contract, crash,
# restart and move tests run on PostgreSQL inside test:node whenever DATABASE_URL is set.
set -eu
if [ -z "${DATABASE_URL:-}" ]; then
    echo "*** DATABASE_URL is not set: the link, call and concurrency tests were NOT run on PostgreSQL (nor the store contract, crash, restart and move tests in test:node). Start PostgreSQL and set DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres, as .ci/run does. ***" >&2
    exit 0
fi
CCL_TEST_STORE=postgres exec node --import tsx --test \
    server/link/linkLifecycle.test.ts \
    server/link/authorization.test.ts \
    server/link/consent.test.ts \
    server/link/orgClient.test.ts \
    server/link/refreshKeepalive.test.ts \
    server/link/ipAllowlist.test.ts \
    server/link/statusCache.test.ts \
    server/http/auth.test.ts \
    server/calls/lookup.test.ts \
    server/calls/taskMapping.test.ts \
    server/calls/callActions.isolation.test.ts \
    server/calls/callActions.task.test.ts \
    server/calls/callActions.kept.test.ts \
    server/test/reliability/concurrency.test.ts
