//! Where a scenario error is: byte offsets of the source turned into file,
//! line, column and the dotted field (`tasks[1].weight`).

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use crate::error::ScenarioError;

/// A scenario's text and the name it is reported under.
pub(super) struct Source<'a> {
    pub(super) file: &'a str,
    pub(super) text: &'a str,
}

impl Source<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        (line, col)
    }

    /// An error at `span`, naming `field`.
    pub(super) fn error(
        &self,
        span: Range<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        let (line, column) = self.line_col(span.start);
        ScenarioError {
            file: self.file.to_owned(),
            line,
            column,
            field: field.into(),
            message: message.into(),
        }
    }

    /// The dotted field at `offset`, from the key on its line and the
    /// nearest table header above it (`tasks[1].weight`).
    pub(super) fn field_at(&self, offset: usize) -> String {
        let (line, _) = self.line_col(offset);
        let lines: Vec<&str> = self.text.lines().collect();
        let key = lines
            .get(line.saturating_sub(1))
            .and_then(|l| l.split_once('='))
            .map(|(k, _)| k.trim().to_owned())
            .filter(|k| !k.starts_with('['))
            .unwrap_or_default();
        let mut table = String::new();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for l in lines.iter().take(line.saturating_sub(1)) {
            let t = l.trim();
            if let Some(name) = t
                .strip_prefix("[[")
                .and_then(|r| r.split_once("]]"))
                .map(|(n, _)| n.trim())
            {
                let n = counts.entry(name.to_owned()).or_insert(0);
                table = format!("{name}[{n}]");
                *n += 1;
            } else if let Some(name) = t
                .strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .map(|(n, _)| n.trim())
            {
                table = name.to_owned();
            }
        }
        match (table.is_empty(), key.is_empty()) {
            (true, _) => key,
            (false, true) => table,
            (false, false) => format!("{table}.{key}"),
        }
    }

    /// A human duration (`90s`, `5m`, `1500ms`) at `s`.
    pub(super) fn duration(
        &self,
        s: &Spanned<String>,
        field: &str,
    ) -> Result<Duration, ScenarioError> {
        humantime::parse_duration(s.get_ref().trim()).map_err(|e| {
            self.error(
                s.span(),
                field,
                format!(
                    "{:?} is not a duration like \"90s\", \"5m\" or \"1500ms\": {e}",
                    s.get_ref()
                ),
            )
        })
    }
}
