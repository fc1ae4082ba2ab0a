//! The language server (placeholder until the LSP layer lands).
use crate::cli::KnowledgeArgs;

pub fn run(_k: KnowledgeArgs) -> anyhow::Result<()> {
    anyhow::bail!("the language server is not built yet")
}
