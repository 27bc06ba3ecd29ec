#!/usr/bin/env bash
# The performance benchmark (docs/performance.md): not part of the test run.
# Usage: ./bench.sh [--seconds 10] [--only latency,overhead,rest,throughput,fanout,memory,drain,wal,cluster] ...
set -euo pipefail
cd "$(dirname "$0")"
# wrk (Debian's package) drives the REST phase; installed here when missing, as .ci/run does for the tests
if ! command -v wrk >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
fi
export MAVEN_OPTS="${MAVEN_OPTS:--Xmx3g}"
mvn -q -B -ntp test-compile exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.cachegate.bench.Benchmark -Dexec.args="$*"
