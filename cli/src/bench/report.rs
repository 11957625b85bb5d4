//! What `pia bench` measured: titled tables with notes, printed as the README's Markdown as each section ends, or
//! gathered into one JSON document (`--output json`).

use serde_json::{Map, Value, json};

use crate::output::Output;

/// One section's figures.
pub(super) struct Table {
    title: String,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    notes: Vec<String>,
}

impl Table {
    pub fn new(title: impl Into<String>, columns: &[&str]) -> Self {
        Self {
            title: title.into(),
            columns: columns.iter().map(|column| (*column).to_owned()).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A row, one cell per column.
    pub fn row(&mut self, cells: impl Into<Vec<String>>) {
        self.rows.push(cells.into());
    }

    /// A sentence under the table.
    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    fn markdown(&self) -> String {
        let mut text = format!("## {}\n\n", self.title);
        if !self.columns.is_empty() && !self.rows.is_empty() {
            text.push_str(&format!("| {} |\n", self.columns.join(" | ")));
            text.push_str(&format!("|{}\n", "---|".repeat(self.columns.len())));
            for row in &self.rows {
                text.push_str(&format!("| {} |\n", row.join(" | ")));
            }
            text.push('\n');
        }
        for note in &self.notes {
            text.push_str(note);
            text.push_str("\n\n");
        }
        text
    }

    fn json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let cells: Map<String, Value> = self
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(column, cell)| (column.clone(), Value::String(cell.clone())))
                    .collect();
                Value::Object(cells)
            })
            .collect();
        json!({"Title": self.title, "Rows": rows, "Notes": self.notes})
    }
}

pub(super) struct Report {
    output: Output,
    heading: String,
    tables: Vec<Table>,
}

impl Report {
    /// `heading` says what ran (build, CPUs); in text it is printed at once.
    pub fn new(output: Output, heading: String) -> Self {
        if output == Output::Text {
            println!("# {heading}\n");
        }
        Self {
            output,
            heading,
            tables: Vec::new(),
        }
    }

    pub fn add(&mut self, table: Table) {
        match self.output {
            Output::Text => print!("{}", table.markdown()),
            Output::Json => self.tables.push(table),
        }
    }

    pub fn finish(self) {
        if self.output == Output::Json {
            let tables: Vec<Value> = self.tables.iter().map(Table::json).collect();
            println!("{:#}", json!({"Heading": self.heading, "Tables": tables}));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_reads_as_markdown_and_as_json() {
        let mut table = Table::new("Scale", &["measurement", "value"]);
        table.row(["List".to_owned(), "33.4 ms".to_owned()]);
        table.note("Measured on loopback.");
        assert_eq!(
            table.markdown(),
            "## Scale\n\n| measurement | value |\n|---|---|\n| List | 33.4 ms |\n\nMeasured on loopback.\n\n"
        );
        assert_eq!(
            table.json(),
            json!({"Title": "Scale", "Rows": [{"measurement": "List", "value": "33.4 ms"}], "Notes": ["Measured on loopback."]})
        );
    }
}
