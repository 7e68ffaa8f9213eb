//! The diagnostic catalogue (`keygate_codegen::Code`) and its documentation stay one table.

use keygate_codegen::Code;

/// The table `docs/schema.md` section 9 must hold: one row per code, in catalogue order.
fn documented_table() -> String {
    let mut table = String::from("| Code | Triggered by | Fix |\n|---|---|---|\n");
    for code in Code::ALL {
        table.push_str(&format!("| `{}` | {} | {} |\n", code.as_str(), code.summary(), code.fix()));
    }
    table
}

#[test]
fn docs_list_every_code_as_the_catalogue_declares_it() {
    let docs = include_str!("../../docs/schema.md");
    let expected = documented_table();
    let start = docs.find("| Code | Triggered by | Fix |").expect("docs/schema.md has the table of codes");
    let written: String = docs[start..].lines().take_while(|l| l.starts_with('|')).map(|l| format!("{l}\n")).collect();
    assert!(
        written == expected,
        "docs/schema.md section 9 differs from codegen/src/catalogue.rs; the table should read:\n\n{expected}"
    );
}
