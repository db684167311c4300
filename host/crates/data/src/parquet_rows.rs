//! Hugging Face parquet files, row by row: every column becomes a JSON value (so parquet
//! accepts the same field names as JSON), except the image column (`image` or `images`:
//! a `{bytes, path}` struct as `datasets` writes it, a list of those, or a path string),
//! which is returned as raw bytes. Batches of 64 rows keep memory flat.

use std::fs::File;
use std::ops::ControlFlow;
use std::path::Path;

use arrow::array::{Array, AsArray, StructArray};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value};

use crate::error::DataError;
use crate::jsonvalue::{Bad, ImageField, bad};
use crate::report::SkipReason;

const BATCH_ROWS: usize = 64;
const IMAGE_COLUMNS: [&str; 2] = ["image", "images"];

/// Callback per row: 0-based row index, the non-image columns, the image.
pub(crate) type RowSink<'a> = dyn FnMut(u64, Map<String, Value>, Result<ImageField, Bad>) -> Result<ControlFlow<()>, DataError>
    + 'a;

/// Streams the rows of `path` to `sink`. With `read_images` false the image columns are
/// not even decoded from the file (statistics only need text).
pub(crate) fn for_each_row_with(
    path: &Path,
    read_images: bool,
    sink: &mut RowSink<'_>,
) -> Result<ControlFlow<()>, DataError> {
    let file = File::open(path).map_err(|e| DataError::open(path, e))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| DataError::parquet(path, e))?;
    let builder = if read_images {
        builder
    } else {
        let schema = builder.parquet_schema();
        let keep: Vec<usize> = builder
            .schema()
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| !IMAGE_COLUMNS.contains(&f.name().as_str()))
            .map(|(i, _)| i)
            .collect();
        let mask = ProjectionMask::roots(schema, keep);
        builder.with_projection(mask)
    };
    let reader = builder
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| DataError::parquet(path, e))?;
    let mut row = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| DataError::parquet(path, e))?;
        let schema = batch.schema();
        for i in 0..batch.num_rows() {
            let mut obj = Map::new();
            let mut image = Ok(ImageField::None);
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                if IMAGE_COLUMNS.contains(&field.name().as_str()) {
                    image = image_at(column.as_ref(), i, field.name());
                } else {
                    obj.insert(field.name().clone(), value_at(column.as_ref(), i));
                }
            }
            if sink(row, obj, image)?.is_break() {
                return Ok(ControlFlow::Break(()));
            }
            row += 1;
        }
    }
    Ok(ControlFlow::Continue(()))
}

/// [`for_each_row_with`] reading images.
pub(crate) fn for_each_row(
    path: &Path,
    sink: &mut RowSink<'_>,
) -> Result<ControlFlow<()>, DataError> {
    for_each_row_with(path, true, sink)
}

/// One cell as JSON. Binary cells have no JSON form and become null.
fn value_at(array: &dyn Array, i: usize) -> Value {
    if array.is_null(i) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Boolean => Value::Bool(array.as_boolean().value(i)),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(i).into(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(i).into(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(i).into(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(i).into(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(i).into(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(i).into(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(i).into(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(i).into(),
        DataType::Float32 => f64::from(array.as_primitive::<Float32Type>().value(i)).into(),
        DataType::Float64 => array.as_primitive::<Float64Type>().value(i).into(),
        DataType::Utf8 => array.as_string::<i32>().value(i).into(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(i).into(),
        DataType::Utf8View => array.as_string_view().value(i).into(),
        DataType::List(_) => list_value(array.as_list::<i32>().value(i).as_ref()),
        DataType::LargeList(_) => list_value(array.as_list::<i64>().value(i).as_ref()),
        DataType::Struct(_) => struct_value(array.as_struct(), i),
        other => {
            tracing::debug!("parquet column type {other} has no JSON form; read as null");
            Value::Null
        }
    }
}

fn list_value(items: &dyn Array) -> Value {
    Value::Array((0..items.len()).map(|j| value_at(items, j)).collect())
}

fn struct_value(s: &StructArray, i: usize) -> Value {
    let mut m = Map::new();
    for (name, column) in s.column_names().into_iter().zip(s.columns()) {
        m.insert(name.to_string(), value_at(column.as_ref(), i));
    }
    Value::Object(m)
}

fn binary_at(array: &dyn Array, i: usize) -> Option<Vec<u8>> {
    if array.is_null(i) {
        return None;
    }
    match array.data_type() {
        DataType::Binary => Some(array.as_binary::<i32>().value(i).to_vec()),
        DataType::LargeBinary => Some(array.as_binary::<i64>().value(i).to_vec()),
        DataType::BinaryView => Some(array.as_binary_view().value(i).to_vec()),
        _ => None,
    }
}

/// The image cell: `{bytes, path}` struct, a list of them (one allowed), or a path string.
fn image_at(array: &dyn Array, i: usize, column: &str) -> Result<ImageField, Bad> {
    if array.is_null(i) {
        return Ok(ImageField::None);
    }
    match array.data_type() {
        DataType::Struct(_) => {
            let s = array.as_struct();
            let bytes = s
                .column_by_name("bytes")
                .and_then(|c| binary_at(c.as_ref(), i))
                .filter(|b| !b.is_empty());
            let path = s
                .column_by_name("path")
                .and_then(|c| value_at(c.as_ref(), i).as_str().map(str::to_string));
            let path = path.filter(|p| !p.is_empty());
            Ok(match (bytes, path) {
                (Some(bytes), path) => ImageField::Embedded { bytes, path },
                (None, Some(path)) => ImageField::Path(path),
                (None, None) => ImageField::None,
            })
        }
        DataType::List(_) | DataType::LargeList(_) => {
            let items = match array.data_type() {
                DataType::List(_) => array.as_list::<i32>().value(i),
                _ => array.as_list::<i64>().value(i),
            };
            match items.len() {
                0 => Ok(ImageField::None),
                1 => image_at(items.as_ref(), 0, column),
                n => Err(bad(
                    SkipReason::MultipleImages,
                    format!("{n} images in column `{column}`"),
                )),
            }
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => match value_at(array, i) {
            Value::String(p) if !p.is_empty() => Ok(ImageField::Path(p)),
            _ => Ok(ImageField::None),
        },
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => Ok(binary_at(array, i)
            .map_or(ImageField::None, |bytes| ImageField::Embedded {
                bytes,
                path: None,
            })),
        other => Err(bad(
            SkipReason::WrongType,
            format!("image column `{column}` has type {other}"),
        )),
    }
}
