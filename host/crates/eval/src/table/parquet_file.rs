//! Hugging Face parquet shards → rows. Image columns are structs `{bytes, path}`; lists and
//! nested structs (MMStar `meta_info`, CV-Bench `bbox`) are kept as nested values.

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{
    DataType, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{Row, Value};
use crate::error::{EvalError, Result};

/// Reads every row of one parquet file.
pub fn read_parquet(path: &Path) -> Result<Vec<Row>> {
    let file = std::fs::File::open(path).map_err(|e| EvalError::io(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(256).build())
        .map_err(|source| EvalError::Parquet {
            path: path.to_path_buf(),
            source,
        })?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|source| EvalError::Arrow {
            path: path.to_path_buf(),
            source,
        })?;
        push_batch(path, &batch, &mut rows);
    }
    Ok(rows)
}

fn push_batch(path: &Path, batch: &RecordBatch, rows: &mut Vec<Row>) {
    let schema = batch.schema();
    for i in 0..batch.num_rows() {
        let cells: BTreeMap<String, Value> = schema
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(field, column)| (field.name().clone(), value_at(column.as_ref(), i)))
            .collect();
        rows.push(Row {
            path: path.to_path_buf(),
            row: rows.len(),
            cells,
        });
    }
}

/// The value at row `i` of an arrow array, recursively for lists and structs.
fn value_at(array: &dyn Array, i: usize) -> Value {
    if array.is_null(i) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Utf8 => Value::Str(array.as_string::<i32>().value(i).to_string()),
        DataType::LargeUtf8 => Value::Str(array.as_string::<i64>().value(i).to_string()),
        DataType::Utf8View => Value::Str(array.as_string_view().value(i).to_string()),
        DataType::Binary => Value::Bytes(array.as_binary::<i32>().value(i).to_vec()),
        DataType::LargeBinary => Value::Bytes(array.as_binary::<i64>().value(i).to_vec()),
        DataType::BinaryView => Value::Bytes(array.as_binary_view().value(i).to_vec()),
        DataType::Boolean => Value::Bool(array.as_boolean().value(i)),
        DataType::Int8 => Value::Int(array.as_primitive::<Int8Type>().value(i).into()),
        DataType::Int16 => Value::Int(array.as_primitive::<Int16Type>().value(i).into()),
        DataType::Int32 => Value::Int(array.as_primitive::<Int32Type>().value(i).into()),
        DataType::Int64 => Value::Int(array.as_primitive::<Int64Type>().value(i)),
        DataType::UInt8 => Value::Int(array.as_primitive::<UInt8Type>().value(i).into()),
        DataType::UInt16 => Value::Int(array.as_primitive::<UInt16Type>().value(i).into()),
        DataType::UInt32 => Value::Int(array.as_primitive::<UInt32Type>().value(i).into()),
        DataType::UInt64 => Value::Int(array.as_primitive::<UInt64Type>().value(i) as i64),
        DataType::Float16 => Value::Float(array.as_primitive::<Float16Type>().value(i).to_f64()),
        DataType::Float32 => Value::Float(array.as_primitive::<Float32Type>().value(i).into()),
        DataType::Float64 => Value::Float(array.as_primitive::<Float64Type>().value(i)),
        DataType::List(_) => list(array.as_list::<i32>().value(i).as_ref()),
        DataType::LargeList(_) => list(array.as_list::<i64>().value(i).as_ref()),
        DataType::FixedSizeList(_, _) => list(array.as_fixed_size_list().value(i).as_ref()),
        DataType::Struct(fields) => {
            let s = array.as_struct();
            Value::Struct(
                fields
                    .iter()
                    .zip(s.columns())
                    .map(|(f, c)| (f.name().clone(), value_at(c.as_ref(), i)))
                    .collect(),
            )
        }
        DataType::Dictionary(_, _) => {
            match arrow::compute::cast(&array.slice(i, 1), &DataType::Utf8) {
                Ok(cast) => value_at(cast.as_ref(), 0),
                Err(_) => Value::Unsupported(array.data_type().to_string()),
            }
        }
        other => Value::Unsupported(other.to_string()),
    }
}

fn list(values: &dyn Array) -> Value {
    Value::List((0..values.len()).map(|j| value_at(values, j)).collect())
}
