//! `--check`: a regenerated table and headline numbers against the committed
//! `data/<id>.{csv,toml}`. Text cells must be equal; numeric cells agree within
//! `rel_tol·|old| + 1e-12` (NaN equals NaN); the columns, their order and the row count must
//! match exactly; each headline number within its own absolute tolerance.

use crate::Error;
use crate::registry::{Output, Table};
use serde::Serialize;

fn err(msg: impl std::fmt::Display) -> Error {
    Error::Data(msg.to_string())
}

/// The table of typed rows ([`crate::table::write`]: the header from the row's field names,
/// `None` as an empty cell, NaN as `NaN`).
pub fn table<R: Serialize>(rows: &[R]) -> Result<Table, Error> {
    let bytes = crate::table::write(rows)?;
    let mut rd = csv::Reader::from_reader(bytes.as_slice());
    let columns = rd.headers()?.iter().map(String::from).collect();
    let rows = rd
        .records()
        .map(|r| r.map(|r| r.iter().map(String::from).collect()))
        .collect::<std::result::Result<_, _>>()?;
    Ok(Table { columns, rows })
}

/// CSV text of a table.
pub fn csv_text(table: &Table) -> Result<String, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&table.columns)?;
    for row in &table.rows {
        w.write_record(row)?;
    }
    String::from_utf8(w.into_inner().map_err(|e| err(e.to_string()))?)
        .map_err(|e| err(e.to_string()))
}

/// Whether two cells agree: equal text, or both numbers within `rel_tol·|old| + 1e-12`
/// (NaN equals NaN).
fn same_cell(old: &str, new: &str, rel_tol: f64) -> bool {
    if old == new {
        return true;
    }
    match (old.parse::<f64>(), new.parse::<f64>()) {
        (Ok(o), Ok(n)) => (o.is_nan() && n.is_nan()) || (n - o).abs() <= rel_tol * o.abs() + 1e-12,
        _ => false,
    }
}

/// Compare a regenerated table with the committed CSV: same columns and rows, text cells
/// equal, numeric cells within `rel_tol`. Returns the list of differences.
pub fn compare(new: &Table, committed_csv: &str, rel_tol: f64) -> Result<Vec<String>, Error> {
    let mut rd = csv::Reader::from_reader(committed_csv.as_bytes());
    let header: Vec<String> = rd.headers()?.iter().map(String::from).collect();
    if header != new.columns {
        return Ok(vec![format!(
            "columns differ: committed {header:?}, new {:?}",
            new.columns
        )]);
    }
    let old: Vec<csv::StringRecord> = rd.records().collect::<std::result::Result<_, _>>()?;
    if old.len() != new.rows.len() {
        return Ok(vec![format!(
            "row count differs: committed {}, new {}",
            old.len(),
            new.rows.len()
        )]);
    }
    let mut diffs = Vec::new();
    for (i, (o, n)) in old.iter().zip(&new.rows).enumerate() {
        for (j, (os, ns)) in o.iter().zip(n).enumerate() {
            if !same_cell(os, ns, rel_tol) {
                diffs.push(format!(
                    "row {} column {}: committed {os}, new {ns}",
                    i + 1,
                    new.columns[j]
                ));
            }
        }
    }
    Ok(diffs)
}

/// Compare the headline numbers with the committed summary's `[headline]` table.
pub fn compare_headline(out: &Output, committed_toml: &str) -> Result<Vec<String>, Error> {
    let doc: toml::Table = toml::from_str(committed_toml).map_err(|e| err(e.to_string()))?;
    let old = doc.get("headline").and_then(|v| v.as_table());
    let mut diffs = Vec::new();
    for h in &out.headline {
        match old.and_then(|t| t.get(&h.name)).and_then(|v| v.as_float()) {
            None => diffs.push(format!(
                "headline {}: missing in the committed summary",
                h.name
            )),
            Some(o) => {
                let same = (o.is_nan() && h.value.is_nan()) || (h.value - o).abs() <= h.abs_tol;
                if !same {
                    diffs.push(format!(
                        "headline {}: committed {o}, new {} (tolerance {:e})",
                        h.name, h.value, h.abs_tol
                    ));
                }
            }
        }
    }
    Ok(diffs)
}

/// Report `--check` differences as an error.
pub fn check_error(fig: &str, diffs: &[String]) -> Error {
    let shown: Vec<&str> = diffs.iter().take(20).map(String::as_str).collect();
    err(format!(
        "{fig}: regenerated results differ from the committed ones in {} place(s):\n  {}",
        diffs.len(),
        shown.join("\n  ")
    ))
}
