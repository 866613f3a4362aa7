//! `harness merge`: the records of a sharded run as one record, written and
//! summarised (exit 0, or 2 when they cannot be merged, naming the file).

use std::path::PathBuf;

use crate::error::Error;
use crate::output;
use crate::record::RunRecord;

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Every shard's record (files, or folders of them).
    #[arg(required = true)]
    pub records: Vec<PathBuf>,
    /// Where to write the merged record.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
}

pub(super) fn handle_merge(a: &MergeArgs) -> Result<u8, Error> {
    let paired = super::json_files(&a.records, false)?
        .into_iter()
        .map(|p| RunRecord::read(&p).map(|r| (p, r)))
        .collect::<Result<Vec<_>, Error>>()?;
    let merged = crate::record::merge::merge(&paired)?;
    merged.write(&a.out)?;
    let _ = output::print_merged(&mut std::io::stdout().lock(), &merged, paired.len(), &a.out);
    Ok(0)
}
