//! Files customers upload (dispute evidence): what a file is, decided from its first bytes
//! and never from its name, and the `stored_files` row that points at it.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, prelude::*};

use crate::entities::stored_file;
use crate::error::AppError;

/// How many leading bytes [`sniff`] needs.
pub const SNIFF_BYTES: usize = 16;

/// The types customers may upload, as (content type, extension), decided from the first
/// bytes: PDF, PNG, JPEG, GIF, WebP and HEIC (phone photos).
pub fn sniff(head: &[u8]) -> Option<(&'static str, &'static str)> {
    if head.starts_with(b"%PDF-") {
        Some(("application/pdf", "pdf"))
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", "png"))
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", "jpg"))
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(("image/gif", "gif"))
    } else if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(("image/webp", "webp"))
    } else if head.len() >= 12
        && &head[4..8] == b"ftyp"
        && matches!(&head[8..12], b"heic" | b"heix" | b"mif1" | b"msf1")
    {
        Some(("image/heic", "heic"))
    } else {
        None
    }
}

/// A file that is written and checked, ready to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub account_id: Option<i64>,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    /// Relative to the data directory.
    pub storage_path: String,
}

/// Records a stored file.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn record(
    db: &impl ConnectionTrait,
    file: NewFile,
    now: DateTime<Utc>,
) -> Result<stored_file::Model, AppError> {
    Ok(stored_file::ActiveModel {
        account_id: Set(file.account_id),
        file_name: Set(file.file_name),
        content_type: Set(file.content_type),
        size_bytes: Set(file.size_bytes),
        sha256: Set(file.sha256),
        storage_path: Set(file.storage_path),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Stored file `id`; with `account_scope`, only when it is that account's.
///
/// # Errors
/// `NotFound` otherwise; database errors as `Internal`.
pub async fn find(
    db: &impl ConnectionTrait,
    id: i64,
    account_scope: Option<i64>,
) -> Result<stored_file::Model, AppError> {
    let mut q = stored_file::Entity::find_by_id(id);
    if let Some(account_id) = account_scope {
        q = q.filter(stored_file::COLUMN.account_id.eq(account_id));
    }
    q.one(db).await?.ok_or(AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn types_come_from_the_content() {
        assert_eq!(
            sniff(b"%PDF-1.7\n%\xe2\xe3"),
            Some(("application/pdf", "pdf"))
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(("image/png", "png"))
        );
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some(("image/jpeg", "jpg"))
        );
        assert_eq!(
            sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some(("image/webp", "webp"))
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0"),
            Some(("image/heic", "heic"))
        );
    }

    #[test]
    fn a_renamed_executable_or_html_is_refused() {
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), None);
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b""), None);
    }
}
