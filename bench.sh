#!/usr/bin/env bash
# The performance benchmark (docs/performance.md): not part of the test run.
# Usage: ./bench.sh [--seconds 10] [--only latency,overhead,throughput,fanout,memory,drain] ...
set -euo pipefail
cd "$(dirname "$0")"
export MAVEN_OPTS="${MAVEN_OPTS:--Xmx3g}"
mvn -q -B -ntp test-compile exec:java -Dexec.classpathScope=test \
  -Dexec.mainClass=io.cachegate.bench.Benchmark -Dexec.args="$*"
