//! The table of a figure, `data/<id>.csv`: typed rows to cells and back. A row is a struct
//! whose fields are the columns, in order (the header is the field names, so a misspelt
//! column does not compile), with two cell types shared by every figure:
//! - a [`Stat`] field `x` marked `#[serde(with = "crate::table::stat")]` is the pair of
//!   columns `x_mean, x_stderr`, each empty unless finite (no completed seed, or fewer than
//!   two for the standard error);
//! - [`Status`], the last column of every table: `ok`, or what went wrong.
//!
//! The csv crate writes the cells of a nested struct in order but cannot name them, so the
//! header is built here ([`header`]: nested fields joined by `_`), and rows are read back by
//! position after checking that the file's header is the one the row type writes.

use crate::Error;
use crate::stats::Stat;
use serde::de::DeserializeOwned;
use serde::ser::{self, Impossible, SerializeStruct};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A [`Stat`] as the two cells `<field>_mean, <field>_stderr`, each empty unless finite.
/// Read back, an empty cell is NaN and the count is 0 (the table does not hold it).
pub mod stat {
    use super::*;

    /// The two cells (`None`: empty).
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "Stat")]
    struct Cells {
        mean: Option<f64>,
        stderr: Option<f64>,
    }

    /// (mean, standard error) when both cells hold a value (a plotted point with error bar).
    pub fn cells(s: &Stat) -> Option<(f64, f64)> {
        (s.mean.is_finite() && s.stderr.is_finite()).then_some((s.mean, s.stderr))
    }

    /// Write the cells of `s`.
    pub fn serialize<S: Serializer>(s: &Stat, ser: S) -> Result<S::Ok, S::Error> {
        let finite = |v: f64| v.is_finite().then_some(v);
        let (mean, stderr) = (finite(s.mean), finite(s.stderr));
        Cells { mean, stderr }.serialize(ser)
    }

    /// Read the cells back.
    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Stat, D::Error> {
        let c = Cells::deserialize(de)?;
        let nan = |v: Option<f64>| v.unwrap_or(f64::NAN);
        Ok(Stat {
            mean: nan(c.mean),
            stderr: nan(c.stderr),
            count: 0,
        })
    }
}

/// The `status` cell of a row: `ok`, or the notes of what went wrong joined by `; ` —
/// `failed: …` (a task or a theory computation failed), `not_converged: k/n seeds`,
/// `out_of_budget: k/n seeds …`, and, for theory beside simulation, each side labelled
/// ([`Status::merge`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    notes: Vec<String>,
}

impl Status {
    /// Everything fine.
    pub const OK: Status = Status { notes: Vec::new() };

    /// One note.
    pub fn note(text: impl Into<String>) -> Self {
        Self {
            notes: vec![text.into()],
        }
    }
    /// `failed: <reason>`.
    pub fn failed(reason: impl fmt::Display) -> Self {
        Self::note(format!("failed: {reason}"))
    }
    /// `ok` without notes, else the notes.
    pub fn of_notes(notes: Vec<String>) -> Self {
        Self { notes }
    }
    /// Whether there is nothing to report.
    pub fn is_ok(&self) -> bool {
        self.notes.is_empty()
    }
    /// Whether it starts with a failure.
    pub fn is_failed(&self) -> bool {
        self.notes.first().is_some_and(|n| n.starts_with("failed"))
    }
    /// Theory beside simulation: `ok` when both are, else the sides that are not, labelled:
    /// `theory …; simulation …`.
    pub fn merge(theory: &Status, simulation: &Status) -> Status {
        let side = |label: &str, s: &Status| (!s.is_ok()).then(|| format!("{label} {s}"));
        let notes = [side("theory", theory), side("simulation", simulation)];
        Self::of_notes(notes.into_iter().flatten().collect())
    }
}

impl From<&gardner_models::run::Termination> for Status {
    /// `ok` for a converged run, else its termination's status.
    fn from(t: &gardner_models::run::Termination) -> Self {
        if t.converged() {
            Status::OK
        } else {
            Status::note(t.status())
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.notes.is_empty() {
            true => f.write_str("ok"),
            false => f.write_str(&self.notes.join("; ")),
        }
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Status {
    /// `ok`, else the text as one note.
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let text = String::deserialize(de)?;
        Ok(if text == "ok" {
            Status::OK
        } else {
            Status::note(text)
        })
    }
}

/// The column names of a row: its field names, a nested struct's fields as
/// `<field>_<subfield>`.
pub fn header<R: Serialize>(row: &R) -> Result<Vec<String>, Error> {
    let mut names = Names::default();
    row.serialize(&mut names)?;
    Ok(names.columns)
}

/// CSV text of typed rows: the header ([`header`]), then one line per row (`None` and a
/// non-finite [`stat`] cell empty, NaN otherwise as `NaN`). No rows: empty.
pub fn write<R: Serialize>(rows: &[R]) -> Result<Vec<u8>, Error> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    if let Some(first) = rows.first() {
        w.write_record(header(first)?)?;
    }
    for r in rows {
        w.serialize(r)?;
    }
    w.into_inner().map_err(|e| Error::Data(e.to_string()))
}

/// Typed rows of a CSV text written by [`write()`] (by position, after checking the header
/// against the first row's).
pub fn read<R: Serialize + DeserializeOwned>(csv_text: &str) -> Result<Vec<R>, Error> {
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let columns: Vec<String> = rd.headers()?.iter().map(String::from).collect();
    let rows = rd
        .records()
        .enumerate()
        .map(|(i, r)| {
            let bad = |e: csv::Error| Error::Data(format!("table row {}: {e}", i + 1));
            r.map_err(bad)?.deserialize(None).map_err(bad)
        })
        .collect::<Result<Vec<R>, Error>>()?;
    if let Some(first) = rows.first() {
        let expected = header(first)?;
        if expected != columns {
            return Err(Error::Data(format!(
                "table columns {columns:?}, the row type has {expected:?}"
            )));
        }
    }
    Ok(rows)
}

/// Collects column names while a row serialises.
#[derive(Default)]
struct Names {
    /// The name of the field being serialised (`a_b` inside a nested struct).
    field: String,
    columns: Vec<String>,
}

impl Names {
    fn cell(&mut self) -> Result<(), csv::Error> {
        self.columns.push(self.field.clone());
        Ok(())
    }
}

/// Scalar `Serializer` methods: one column named after the current field.
macro_rules! cells {
    ($($f:ident: $t:ty),*) => {
        $(fn $f(self, _: $t) -> Result<(), csv::Error> { self.cell() })*
    };
}

impl Serializer for &mut Names {
    type Ok = ();
    type Error = csv::Error;
    type SerializeSeq = Impossible<(), csv::Error>;
    type SerializeTuple = Impossible<(), csv::Error>;
    type SerializeTupleStruct = Impossible<(), csv::Error>;
    type SerializeTupleVariant = Impossible<(), csv::Error>;
    type SerializeMap = Impossible<(), csv::Error>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), csv::Error>;

    cells!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_f32: f32, serialize_f64: f64, serialize_char: char,
        serialize_str: &str, serialize_bytes: &[u8], serialize_unit_struct: &'static str);

    fn serialize_none(self) -> Result<(), csv::Error> {
        self.cell()
    }
    fn serialize_unit(self) -> Result<(), csv::Error> {
        self.cell()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &str) -> Result<(), csv::Error> {
        self.cell()
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<(), csv::Error> {
        v.serialize(self)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), csv::Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), csv::Error> {
        Err(ser::Error::custom(
            "a table cell cannot be an enum with data",
        ))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, csv::Error> {
        Err(ser::Error::custom("a table cell cannot be a sequence"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, csv::Error> {
        Err(ser::Error::custom("a table cell cannot be a tuple"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, csv::Error> {
        Err(ser::Error::custom("a table cell cannot be a tuple"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, csv::Error> {
        Err(ser::Error::custom(
            "a table cell cannot be an enum with data",
        ))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, csv::Error> {
        Err(ser::Error::custom(
            "a table row cannot be a map (no serde flatten)",
        ))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, csv::Error> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, csv::Error> {
        Err(ser::Error::custom(
            "a table cell cannot be an enum with data",
        ))
    }
}

impl SerializeStruct for &mut Names {
    type Ok = ();
    type Error = csv::Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), csv::Error> {
        let outer = std::mem::take(&mut self.field);
        self.field = match outer.as_str() {
            "" => key.to_string(),
            o => format!("{o}_{key}"),
        };
        v.serialize(&mut **self)?;
        self.field = outer;
        Ok(())
    }
    fn end(self) -> Result<(), csv::Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Row {
        alpha: f64,
        #[serde(with = "stat")]
        m: Stat,
        tau: Option<f64>,
        status: Status,
    }

    #[test]
    fn stat_is_two_columns_and_reads_back() {
        let stat = |mean, stderr| Stat {
            mean,
            stderr,
            count: 0,
        };
        let rows = vec![
            Row {
                alpha: 1.5,
                m: stat(0.25, 0.125),
                tau: None,
                status: Status::OK,
            },
            Row {
                alpha: f64::NAN,
                m: Stat::of(&[]),
                tau: Some(2.0),
                status: Status::merge(&Status::OK, &Status::failed("1/2 seeds: x, y")),
            },
        ];
        let text = String::from_utf8(write(&rows).unwrap()).unwrap();
        assert_eq!(
            text,
            "alpha,m_mean,m_stderr,tau,status\n1.5,0.25,0.125,,ok\nNaN,,,2.0,\"simulation failed: 1/2 seeds: x, y\"\n"
        );
        let back: Vec<Row> = read(&text).unwrap();
        assert_eq!(back[0], rows[0]);
        assert!(back[1].alpha.is_nan() && back[1].m.mean.is_nan() && back[1].tau == Some(2.0));
        assert_eq!(back[1].status.to_string(), rows[1].status.to_string());
        let renamed = text.replacen("m_mean", "m_avg", 1);
        assert!(read::<Row>(&renamed).is_err());
    }
}
