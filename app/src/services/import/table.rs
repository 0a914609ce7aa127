//! Reading an import CSV as a stream: the byte-order mark, the delimiter (comma or
//! semicolon, decided from the header line), the header checked against the kind's
//! columns, then one [`Row`] at a time with its line number.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use crate::services::import::Reject;

/// One column a kind knows.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub required: bool,
}

pub const fn req(name: &'static str) -> Column {
    Column {
        name,
        required: true,
    }
}

pub const fn opt(name: &'static str) -> Column {
    Column {
        name,
        required: false,
    }
}

/// The header of a file: which known column sits where.
#[derive(Debug, Clone, Default)]
pub struct Header {
    index: HashMap<&'static str, usize>,
    width: usize,
}

impl Header {
    /// Whether the file has `column` (an optional column left out keeps stored values).
    pub fn has(&self, column: &str) -> bool {
        self.index.contains_key(column)
    }
}

/// One data row: its line in the file (the header is line 1) and its fields, trimmed.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: i64,
    /// Set when the row could not be read as it should (not UTF-8, wrong number of fields).
    pub problem: Option<Reject>,
    fields: Vec<String>,
    header: std::sync::Arc<Header>,
}

impl Row {
    /// The field of `column`, trimmed; empty when the file has no such column.
    pub fn get(&self, column: &str) -> &str {
        self.header
            .index
            .get(column)
            .and_then(|&i| self.fields.get(i))
            .map_or("", |s| s.as_str())
    }

    /// The field of `column` when the file has the column, else `None`.
    pub fn given(&self, column: &str) -> Option<&str> {
        self.header.has(column).then(|| self.get(column))
    }

    pub fn reject(&self, column: &str, reason: impl Into<String>) -> Reject {
        Reject {
            line: self.line,
            column: column.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A CSV file opened for reading rows.
pub struct Table<R: Read> {
    reader: csv::Reader<BufReader<R>>,
    header: std::sync::Arc<Header>,
    record: csv::ByteRecord,
}

/// What the header line says is wrong (each a reject on line 1), or an unreadable file.
#[derive(Debug)]
pub enum OpenError {
    Header(Vec<Reject>),
    Io(String),
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Opens `input` as CSV with the kind's `columns`: skips a UTF-8 byte-order mark, takes
/// `;` as the delimiter when the header line has more semicolons than commas (outside
/// quotes), and checks the header: every required column present, no unknown or repeated
/// column (names are compared trimmed and in lower case).
///
/// # Errors
/// The header's problems, or the input cannot be read.
pub fn open<R: Read>(input: R, columns: &[Column]) -> Result<Table<R>, OpenError> {
    let mut buffered = BufReader::with_capacity(64 * 1024, input);
    let head = buffered
        .fill_buf()
        .map_err(|e| OpenError::Io(e.to_string()))?;
    let bom = head.starts_with(UTF8_BOM);
    let delimiter = detect_delimiter(if bom { &head[3..] } else { head });
    if bom {
        buffered.consume(3);
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(buffered);
    let raw = reader
        .byte_headers()
        .map_err(|e| OpenError::Io(e.to_string()))?
        .clone();
    let header = check_header(&raw, columns).map_err(OpenError::Header)?;
    Ok(Table {
        reader,
        header: std::sync::Arc::new(header),
        record: csv::ByteRecord::new(),
    })
}

impl<R: Read> Table<R> {
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The next row, `None` at the end. A row that is not UTF-8 or has a different number of
    /// fields than the header comes with its [`Row::problem`] (its fields read as well as
    /// they can be, so the rows grouped with it can be told apart).
    ///
    /// # Errors
    /// The input cannot be read.
    pub fn next_row(&mut self) -> Result<Option<Row>, String> {
        loop {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| e.to_string())?;
            if !more {
                return Ok(None);
            }
            let line = self
                .record
                .position()
                .map_or(0, |p| i64::try_from(p.line()).unwrap_or(i64::MAX));
            // Blank lines are not rows.
            if self.record.len() == 1 && self.record.get(0).is_some_and(<[u8]>::is_empty) {
                continue;
            }
            return Ok(Some(self.row(line)));
        }
    }

    fn row(&self, line: i64) -> Row {
        let mut problem = None;
        if self.record.len() != self.header.width {
            problem = Some(Reject {
                line,
                column: String::new(),
                reason: format!(
                    "the row has {} fields, the header has {}",
                    self.record.len(),
                    self.header.width
                ),
            });
        }
        let mut fields = Vec::with_capacity(self.record.len());
        for (i, raw) in self.record.iter().enumerate() {
            let text = match std::str::from_utf8(raw) {
                Ok(text) => text.trim().to_owned(),
                Err(_) => {
                    if problem.is_none() {
                        let name = self
                            .header
                            .index
                            .iter()
                            .find(|&(_, &j)| j == i)
                            .map_or("", |(n, _)| *n);
                        problem = Some(Reject {
                            line,
                            column: name.to_owned(),
                            reason: "the text is not UTF-8".to_owned(),
                        });
                    }
                    String::from_utf8_lossy(raw).trim().to_owned()
                }
            };
            fields.push(text);
        }
        Row {
            line,
            problem,
            fields,
            header: self.header.clone(),
        }
    }
}

/// Counts the data rows of `input` (cheaply: no field is decoded), for progress.
///
/// # Errors
/// The input cannot be read.
pub fn count_rows<R: Read>(input: R, columns: &[Column]) -> Result<i64, OpenError> {
    let mut table = open(input, columns)?;
    let mut count = 0_i64;
    loop {
        let more = table
            .reader
            .read_byte_record(&mut table.record)
            .map_err(|e| OpenError::Io(e.to_string()))?;
        if !more {
            return Ok(count);
        }
        if !(table.record.len() == 1 && table.record.get(0).is_some_and(<[u8]>::is_empty)) {
            count += 1;
        }
    }
}

/// `;` when the first line has more semicolons than commas outside quotes, else `,`.
pub fn detect_delimiter(head: &[u8]) -> u8 {
    let (mut commas, mut semicolons, mut quoted) = (0_usize, 0_usize, false);
    for &b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

fn check_header(raw: &csv::ByteRecord, columns: &[Column]) -> Result<Header, Vec<Reject>> {
    let mut problems = Vec::new();
    let mut index = HashMap::new();
    let at = |column: &str, reason: &str| Reject {
        line: 1,
        column: column.to_owned(),
        reason: reason.to_owned(),
    };
    for (i, raw_name) in raw.iter().enumerate() {
        let name = String::from_utf8_lossy(raw_name)
            .trim()
            .to_ascii_lowercase();
        match columns.iter().find(|c| c.name == name) {
            Some(c) => {
                if index.insert(c.name, i).is_some() {
                    problems.push(at(&name, "the column appears twice"));
                }
            }
            None if name.is_empty() => problems.push(at("", "a column has no name")),
            None => problems.push(at(&name, "unknown column")),
        }
    }
    for c in columns.iter().filter(|c| c.required) {
        if !index.contains_key(c.name) {
            problems.push(at(c.name, "required column is missing"));
        }
    }
    if problems.is_empty() {
        Ok(Header {
            index,
            width: raw.len(),
        })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::detect_delimiter;

    #[test]
    fn the_delimiter_comes_from_the_header_line() {
        assert_eq!(detect_delimiter(b"a,b,c\n1;2;3;4;5"), b',');
        assert_eq!(detect_delimiter(b"a;b;c\n1,2"), b';');
        assert_eq!(detect_delimiter(b"\"a,b\";c;d"), b';');
        assert_eq!(detect_delimiter(b""), b',');
    }
}
