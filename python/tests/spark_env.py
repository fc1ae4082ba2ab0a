"""Whether Spark can run here, for the tests that need it: PySpark importable and Java on
PATH. Missing either, those tests are skipped, unless CALCINOSIS_REQUIRE_SPARK=1 (CI), when
importing this module fails instead: a CI run must not pass by skipping Spark."""

import os
import shutil

REQUIRED = os.environ.get("CALCINOSIS_REQUIRE_SPARK") == "1"

try:
    import pyspark  # noqa: F401

    MISSING = None if shutil.which("java") else "no java on PATH"
except ImportError as e:  # pragma: no cover - depends on the machine
    MISSING = f"pyspark is not installed: {e}"

if MISSING and REQUIRED:
    raise RuntimeError(f"CALCINOSIS_REQUIRE_SPARK=1 but {MISSING}")
