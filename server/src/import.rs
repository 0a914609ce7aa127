//! `settle import KIND FILE`.

use std::path::Path;

use app::model::enums::ImportKind;
use app::state::Clock;
use sea_orm::DatabaseConnection;

/// `settle import`: checks `file`, prints the report, and (unless `dry_run`) applies it.
///
/// # Errors
/// A message for the command line (stub: filled in by the import work).
pub async fn cli(
    _db: &DatabaseConnection,
    kind: ImportKind,
    file: &Path,
    _dry_run: bool,
    _clock: &dyn Clock,
) -> Result<(), String> {
    Err(format!(
        "importing {kind} from {} is not built yet",
        file.display()
    ))
}
