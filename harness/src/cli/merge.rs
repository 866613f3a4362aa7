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
    let paired = expand(&a.records)?
        .into_iter()
        .map(|p| RunRecord::read(&p).map(|r| (p, r)))
        .collect::<Result<Vec<_>, Error>>()?;
    let merged = crate::record::merge::merge(&paired)?;
    merged.write(&a.out)?;
    let _ = output::print_merged(&mut std::io::stdout().lock(), &merged, paired.len(), &a.out);
    Ok(0)
}

/// The record files named by `paths` (folders: their `.json` files, sorted).
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|source| Error::Read {
                    path: p.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}
