use calcinosis_ls::analysis::Analyzer;
use calcinosis_ls::corpus::Corpus;
fn main() {
    let c = Corpus::embedded().unwrap();
    let a = Analyzer::new(&c);
    for s in std::env::args().skip(1) {
        for f in a.analyze(&s).findings {
            println!(
                "{:?} {} {:?}",
                &s[f.range.clone()],
                f.assertion,
                f.trigger.map(|t| s[t.range].to_string())
            );
        }
    }
}
