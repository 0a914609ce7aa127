//! Tests of import (filled in by its work).
