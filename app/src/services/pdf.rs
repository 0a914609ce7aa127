//! PDFs Settle renders itself: a document (invoice, credit memo, …) and an account
//! statement. Pure functions from plain data to bytes, in the built-in Helvetica so no
//! font file is needed.

use chrono::NaiveDate;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use crate::model::portal::format_money;

/// One line of a document as printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfLine {
    pub description: String,
    pub quantity_milli: i64,
    pub unit_price_minor: i64,
    pub amount_minor: i64,
}

/// Everything printed on a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentPdf {
    pub supplier_name: String,
    /// Remit-to address, one line per `\n`.
    pub remit_to: String,
    /// "Invoice", "Credit memo", …
    pub title: String,
    pub number: String,
    pub account_name: String,
    pub account_number: String,
    pub po_number: Option<String>,
    pub issue_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub currency: String,
    pub lines: Vec<PdfLine>,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub open_minor: i64,
    pub status: String,
    /// Printed as "Pay online: …" when set.
    pub pay_url: Option<String>,
}

/// One row of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementEntry {
    pub date: NaiveDate,
    /// "Invoice INV-1001", "Payment (check)", …
    pub description: String,
    /// What the row adds to the balance (negative for credits and payments).
    pub amount_minor: i64,
    /// The balance after this row.
    pub balance_minor: i64,
}

/// Everything printed on a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementPdf {
    pub supplier_name: String,
    pub remit_to: String,
    pub account_name: String,
    pub account_number: String,
    pub currency: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub opening_balance_minor: i64,
    pub entries: Vec<StatementEntry>,
    pub closing_balance_minor: i64,
}

const PAGE_W: f32 = 612.0;
const PAGE_H: f32 = 792.0;
const MARGIN: f32 = 50.0;
const RIGHT: f32 = PAGE_W - MARGIN;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// Renders a document.
pub fn document(doc: &DocumentPdf) -> Vec<u8> {
    let mut w = Writer::new();
    header(
        &mut w,
        &doc.supplier_name,
        &doc.remit_to,
        &doc.title.to_uppercase(),
    );

    let mut facts = vec![
        ("Number", doc.number.clone()),
        ("Issued", doc.issue_date.to_string()),
    ];
    if let Some(due) = doc.due_date {
        facts.push(("Due", due.to_string()));
    }
    if let Some(po) = &doc.po_number {
        facts.push(("PO number", po.clone()));
    }
    facts.push(("Status", doc.status.clone()));
    bill_to(&mut w, &doc.account_name, &doc.account_number, &facts);

    // Lines.
    let (qty_x, price_x, amount_x) = (360.0, 450.0, RIGHT);
    w.ensure(40.0);
    w.text(MARGIN, 10.0, BOLD, "Description");
    w.text_right(qty_x, 10.0, BOLD, "Qty");
    w.text_right(price_x, 10.0, BOLD, "Unit price");
    w.text_right(amount_x, 10.0, BOLD, "Amount");
    w.down(6.0);
    w.rule();
    w.down(14.0);
    if doc.lines.is_empty() {
        w.text(MARGIN, 10.0, REGULAR, "No lines.");
        w.down(14.0);
    }
    for line in &doc.lines {
        let wrapped = wrap(&line.description, 52);
        w.ensure(14.0 * wrapped.len() as f32);
        w.text_right(qty_x, 10.0, REGULAR, &quantity(line.quantity_milli));
        w.text_right(
            price_x,
            10.0,
            REGULAR,
            &format_money(line.unit_price_minor, &doc.currency),
        );
        w.text_right(
            amount_x,
            10.0,
            REGULAR,
            &format_money(line.amount_minor, &doc.currency),
        );
        for part in wrapped {
            w.text(MARGIN, 10.0, REGULAR, &part);
            w.down(14.0);
        }
    }
    w.rule();
    w.down(16.0);

    // Totals.
    let totals = [
        ("Subtotal", doc.total_minor - doc.tax_minor, REGULAR),
        ("Tax", doc.tax_minor, REGULAR),
        ("Total", doc.total_minor, BOLD),
        ("Open balance", doc.open_minor, BOLD),
    ];
    w.ensure(16.0 * totals.len() as f32 + 30.0);
    for (label, minor, font) in totals {
        w.text_right(price_x, 10.0, font, label);
        w.text_right(amount_x, 10.0, font, &format_money(minor, &doc.currency));
        w.down(16.0);
    }
    if let Some(url) = &doc.pay_url {
        w.down(12.0);
        w.text(MARGIN, 11.0, BOLD, &format!("Pay online: {url}"));
        w.down(16.0);
    }
    w.finish(&format!("{} {}", doc.title, doc.number))
}

/// Renders a statement: opening balance, each entry with its running balance, closing
/// balance.
pub fn statement(st: &StatementPdf) -> Vec<u8> {
    let mut w = Writer::new();
    header(&mut w, &st.supplier_name, &st.remit_to, "STATEMENT");
    let facts = [
        ("Period", format!("{} to {}", st.from, st.to)),
        (
            "Balance due",
            format_money(st.closing_balance_minor, &st.currency),
        ),
    ];
    bill_to(&mut w, &st.account_name, &st.account_number, &facts);

    let (amount_x, balance_x) = (450.0, RIGHT);
    let heading = |w: &mut Writer| {
        w.text(MARGIN, 10.0, BOLD, "Date");
        w.text(130.0, 10.0, BOLD, "Description");
        w.text_right(amount_x, 10.0, BOLD, "Amount");
        w.text_right(balance_x, 10.0, BOLD, "Balance");
        w.down(6.0);
        w.rule();
        w.down(14.0);
    };
    w.ensure(60.0);
    heading(&mut w);
    w.text(130.0, 10.0, REGULAR, "Opening balance");
    w.text_right(
        balance_x,
        10.0,
        REGULAR,
        &format_money(st.opening_balance_minor, &st.currency),
    );
    w.down(14.0);
    for entry in &st.entries {
        if w.ensure(14.0) {
            heading(&mut w);
        }
        w.text(MARGIN, 10.0, REGULAR, &entry.date.to_string());
        w.text(130.0, 10.0, REGULAR, &truncate(&entry.description, 48));
        w.text_right(
            amount_x,
            10.0,
            REGULAR,
            &format_money(entry.amount_minor, &st.currency),
        );
        w.text_right(
            balance_x,
            10.0,
            REGULAR,
            &format_money(entry.balance_minor, &st.currency),
        );
        w.down(14.0);
    }
    w.rule();
    w.down(16.0);
    w.ensure(16.0);
    w.text_right(amount_x, 10.0, BOLD, "Closing balance");
    w.text_right(
        balance_x,
        10.0,
        BOLD,
        &format_money(st.closing_balance_minor, &st.currency),
    );
    w.down(16.0);
    w.finish(&format!(
        "Statement {} {}–{}",
        st.account_number, st.from, st.to
    ))
}

/// Supplier name and remit-to on the left, the document's title on the right.
fn header(w: &mut Writer, supplier: &str, remit_to: &str, title: &str) {
    w.text(MARGIN, 16.0, BOLD, supplier);
    w.text_right(RIGHT, 20.0, BOLD, title);
    w.down(18.0);
    w.text(MARGIN, 9.0, BOLD, "Remit to");
    w.down(12.0);
    for line in remit_to.lines().filter(|l| !l.trim().is_empty()) {
        w.text(MARGIN, 9.0, REGULAR, line.trim());
        w.down(12.0);
    }
    w.down(12.0);
}

/// The customer on the left, the document's facts on the right.
fn bill_to(w: &mut Writer, name: &str, number: &str, facts: &[(&str, String)]) {
    let top = w.y;
    w.text(MARGIN, 9.0, BOLD, "Bill to");
    w.down(13.0);
    w.text(MARGIN, 11.0, REGULAR, name);
    w.down(13.0);
    w.text(MARGIN, 10.0, REGULAR, &format!("Account {number}"));
    let left_bottom = w.y;
    w.y = top;
    for (label, value) in facts {
        w.text_right(460.0, 10.0, BOLD, label);
        w.text(470.0, 10.0, REGULAR, value);
        w.down(13.0);
    }
    w.y = w.y.min(left_bottom) - 24.0;
}

/// A quantity in thousandths, without trailing zeros: 2500 → "2.5".
fn quantity(milli: i64) -> String {
    let sign = if milli < 0 { "-" } else { "" };
    let abs = milli.unsigned_abs();
    let whole = abs / 1000;
    let frac = abs % 1000;
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let digits = format!("{frac:03}");
        format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
    }
}

/// Splits text into lines of at most `max` characters at spaces (longer words are cut).
fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let mut word: String = word.to_owned();
        while word.chars().count() > max {
            let head: String = word.chars().take(max).collect();
            word = word.chars().skip(max).collect();
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            lines.push(head);
        }
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > max {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Text in WinAnsiEncoding, the encoding the base-14 fonts are declared with here.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            _ if c.is_whitespace() => b' ',
            _ => b'?',
        })
        .collect()
}

/// Approximate advance width in Helvetica (exact for digits and punctuation in amounts).
fn text_width(text: &str, size: f32) -> f32 {
    let units: u32 = text
        .chars()
        .map(|c| match c {
            '.' | ',' | ' ' | ':' | 'i' | 'l' | 'j' | 'I' => 278,
            '-' | '(' | ')' | 'r' => 333,
            'f' | 't' => 278,
            'm' | 'M' => 833,
            'w' => 722,
            'W' => 944,
            'A'..='Z' => 667,
            _ => 556,
        })
        .sum();
    units as f32 / 1000.0 * size
}

/// Lays text out top to bottom over as many pages as it needs.
struct Writer {
    pages: Vec<Content>,
    current: Content,
    y: f32,
}

impl Writer {
    fn new() -> Self {
        Writer {
            pages: Vec::new(),
            current: Content::new(),
            y: PAGE_H - MARGIN,
        }
    }

    fn text(&mut self, x: f32, size: f32, font: Name<'_>, text: &str) {
        let bytes = win_ansi(text);
        self.current
            .begin_text()
            .set_font(font, size)
            .next_line(x, self.y)
            .show(Str(&bytes))
            .end_text();
    }

    fn text_right(&mut self, right: f32, size: f32, font: Name<'_>, text: &str) {
        let x = right - text_width(text, size);
        self.text(x, size, font, text);
    }

    fn down(&mut self, by: f32) {
        self.y -= by;
    }

    fn rule(&mut self) {
        self.current
            .set_line_width(0.5)
            .move_to(MARGIN, self.y)
            .line_to(RIGHT, self.y)
            .stroke();
    }

    /// Starts a new page unless `needed` points are left; true when it did.
    fn ensure(&mut self, needed: f32) -> bool {
        if self.y - needed < MARGIN {
            let done = std::mem::replace(&mut self.current, Content::new());
            self.pages.push(done);
            self.y = PAGE_H - MARGIN;
            true
        } else {
            false
        }
    }

    fn finish(mut self, title: &str) -> Vec<u8> {
        self.pages.push(self.current);
        let catalog_id = Ref::new(1);
        let tree_id = Ref::new(2);
        let regular_id = Ref::new(3);
        let bold_id = Ref::new(4);
        let info_id = Ref::new(5);
        let first_page = 6;
        let page_ids: Vec<Ref> = (0..self.pages.len())
            .map(|i| Ref::new(first_page + 2 * i32::try_from(i).unwrap_or(0)))
            .collect();

        let mut pdf = Pdf::new();
        pdf.catalog(catalog_id).pages(tree_id);
        pdf.pages(tree_id)
            .kids(page_ids.iter().copied())
            .count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));
        pdf.type1_font(regular_id)
            .base_font(Name(b"Helvetica"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.type1_font(bold_id)
            .base_font(Name(b"Helvetica-Bold"))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
        pdf.document_info(info_id)
            .title(pdf_writer::TextStr(title))
            .producer(pdf_writer::TextStr("Settle"));
        for (page_id, content) in page_ids.iter().zip(self.pages) {
            let content_id = Ref::new(page_id.get() + 1);
            let mut page = pdf.page(*page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
            page.parent(tree_id);
            page.contents(content_id);
            let mut resources = page.resources();
            resources
                .fonts()
                .pair(REGULAR, regular_id)
                .pair(BOLD, bold_id);
            resources.finish();
            page.finish();
            pdf.stream(content_id, &content.finish());
        }
        pdf.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_drop_trailing_zeros() {
        assert_eq!(quantity(2_000), "2");
        assert_eq!(quantity(2_500), "2.5");
        assert_eq!(quantity(1_005), "1.005");
    }

    #[test]
    fn long_descriptions_wrap_at_spaces() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(wrap("", 4), [""]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
    }

    #[test]
    fn a_document_is_a_pdf() {
        let bytes = document(&DocumentPdf {
            supplier_name: "Northwind".into(),
            remit_to: "PO Box 1\nPortland".into(),
            title: "Invoice".into(),
            number: "INV-1".into(),
            account_name: "Acme".into(),
            account_number: "C-1".into(),
            po_number: None,
            issue_date: NaiveDate::default(),
            due_date: None,
            currency: "EUR".into(),
            lines: (0..80)
                .map(|i| PdfLine {
                    description: format!("Widget {i}"),
                    quantity_milli: 1_000,
                    unit_price_minor: 100,
                    amount_minor: 100,
                })
                .collect(),
            tax_minor: 0,
            total_minor: 8_000,
            open_minor: 8_000,
            status: "Open".into(),
            pay_url: Some("http://x/portal".into()),
        });
        assert!(bytes.starts_with(b"%PDF"));
    }
}
