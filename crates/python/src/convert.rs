//! Python values in and out: dicts → the Rust specs (through the same serde schemas and
//! validating constructors as the TOML figure specs), numbers → `f64` slices, results →
//! dicts of numpy arrays.
//!
//! A dict is converted to a TOML value and deserialised from it, so the schema, the defaults
//! and the error messages (`unknown field`, `missing field`, `invalid parameter …`) are the
//! Rust ones; validation errors are raised as `ValueError` with the Rust message unchanged.

use gardner_models::{AnyChannel, AnyPrior, ChannelSpec, PriorSpec};
use numpy::{AllowTypeChange, PyArray1, PyArrayLike1};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::de::DeserializeOwned;
use std::fmt::Display;

/// Invalid input: a `ValueError` carrying the Rust message unchanged.
pub fn value_error(e: impl Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A computation that failed on valid input (e.g. a quadrature that missed its accuracy).
pub fn runtime_error(e: impl Display) -> PyErr {
    PyRuntimeError::new_err(e.to_string())
}

/// A Python value as a TOML value (bool, int, float, str, list/tuple, dict with str keys).
fn to_toml(what: &str, obj: &Bound<'_, PyAny>) -> PyResult<toml::Value> {
    if obj.is_instance_of::<PyBool>() {
        Ok(toml::Value::Boolean(obj.extract()?))
    } else if obj.is_instance_of::<PyInt>() {
        Ok(toml::Value::Integer(obj.extract()?))
    } else if obj.is_instance_of::<PyFloat>() {
        Ok(toml::Value::Float(obj.extract()?))
    } else if obj.is_instance_of::<PyString>() {
        Ok(toml::Value::String(obj.extract()?))
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let items = obj.try_iter()?;
        Ok(toml::Value::Array(
            items
                .map(|item| to_toml(what, &item?))
                .collect::<PyResult<_>>()?,
        ))
    } else if let Ok(dict) = obj.cast::<PyDict>() {
        let mut table = toml::Table::new();
        for (key, value) in dict.iter() {
            let key: String = key
                .extract()
                .map_err(|_| value_error(format!("{what}: keys must be strings")))?;
            table.insert(key, to_toml(what, &value)?);
        }
        Ok(toml::Value::Table(table))
    } else if let Ok(x) = obj.extract::<f64>() {
        // numpy scalars and other objects with __float__
        Ok(toml::Value::Float(x))
    } else {
        Err(value_error(format!(
            "{what}: unsupported value of type `{}`",
            obj.get_type().name()?
        )))
    }
}

/// Deserialise a dict into a spec type `T` (its serde schema: `deny_unknown_fields`,
/// defaults); a schema error is a `ValueError` "`what`: message".
pub fn from_dict<T: DeserializeOwned>(what: &str, obj: &Bound<'_, PyAny>) -> PyResult<T> {
    if obj.cast::<PyDict>().is_err() {
        return Err(value_error(format!(
            "{what}: expected a dict, got `{}`",
            obj.get_type().name()?
        )));
    }
    to_toml(what, obj)?
        .try_into()
        .map_err(|e| value_error(format!("{what}: {}", one_line(&e.to_string()))))
}

/// An optional dict of tuning parameters; `None` gives the defaults.
pub fn config_or_default<T: DeserializeOwned + Default>(
    what: &str,
    obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<T> {
    match obj {
        Some(o) if !o.is_none() => from_dict(what, o),
        _ => Ok(T::default()),
    }
}

/// A validated prior from a dict such as `{"kind": "gaussian", "rho": 1.0}`.
pub fn prior(obj: &Bound<'_, PyAny>) -> PyResult<AnyPrior> {
    from_dict::<PriorSpec>("prior", obj)?
        .build()
        .map_err(value_error)
}

/// A validated channel from a dict such as `{"kind": "abs"}`.
pub fn channel(obj: &Bound<'_, PyAny>) -> PyResult<AnyChannel> {
    from_dict::<ChannelSpec>("channel", obj)?
        .build()
        .map_err(value_error)
}

/// A 1-d sequence or array of numbers as `Vec<f64>` (ints are converted).
pub fn floats(array: PyArrayLike1<'_, f64, AllowTypeChange>) -> PyResult<Vec<f64>> {
    Ok(array.as_array().to_vec())
}

/// Collapse a (possibly multi-line) message to one line.
pub fn one_line(msg: &str) -> String {
    msg.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A result dict under construction: numpy float64 arrays, int64 arrays, lists and scalars.
pub struct Out<'py> {
    dict: Bound<'py, PyDict>,
}

impl<'py> Out<'py> {
    pub fn new(py: Python<'py>) -> Self {
        Self {
            dict: PyDict::new(py),
        }
    }
    /// A float64 array column.
    pub fn floats(self, key: &str, values: Vec<f64>) -> PyResult<Self> {
        let array = PyArray1::from_vec(self.dict.py(), values);
        self.dict.set_item(key, array)?;
        Ok(self)
    }
    /// An int64 array column.
    pub fn ints(self, key: &str, values: Vec<i64>) -> PyResult<Self> {
        let array = PyArray1::from_vec(self.dict.py(), values);
        self.dict.set_item(key, array)?;
        Ok(self)
    }
    /// Any value convertible to Python (scalars, strings, lists of strings, `None`).
    pub fn item<V: IntoPyObject<'py>>(self, key: &str, value: V) -> PyResult<Self> {
        self.dict.set_item(key, value)?;
        Ok(self)
    }
    pub fn finish(self) -> Bound<'py, PyDict> {
        self.dict
    }
}
