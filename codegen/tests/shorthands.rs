//! `primary_key:` and `timestamps:` are shorthands: a schema using them generates exactly what
//! the same schema with the fields written out generates.

use keygate_codegen::{GeneratedFile, Generator};

const WRITTEN_OUT: &str = r#"version: 1
tenancy: { entity: tenant, key: slug }
entities:
  tenant:
    fields:
      id: { type: uuid, primary_key: true, default: uuid_v4 }
      slug: { type: string, unique: true }
      created_at: { type: timestamp, default: now, read_only: true }
      updated_at: { type: timestamp, default: now, on_update: now, read_only: true }
  note:
    tenant_scoped: true
    fields:
      id: { type: uuid, primary_key: true, default: uuid_v4 }
      title: { type: string, max_length: 100 }
      created_at: { type: timestamp, default: now, read_only: true }
    ops:
      list: { sort: [created_at] }
"#;

const SHORT: &str = r#"version: 1
tenancy: { entity: tenant, key: slug }
entities:
  tenant:
    primary_key: id
    timestamps: true
    fields:
      slug: { type: string, unique: true }
  note:
    tenant_scoped: true
    timestamps: created_at
    primary_key: id
    fields:
      title: { type: string, max_length: 100 }
    ops:
      list: { sort: [created_at] }
"#;

fn generate(source: &str) -> Vec<GeneratedFile> {
    Generator::new().generate(source).unwrap_or_else(|d| panic!("{}", d.render("schema.yaml", source)))
}

/// Generated text with schema line numbers (`schema line 7`, `"line": 7`) blanked.
fn without_lines(text: &str) -> String {
    let mut out = text.to_owned();
    for marker in ["schema line ", "\"line\": "] {
        let mut blanked = String::new();
        let mut rest = out.as_str();
        while let Some(at) = rest.find(marker) {
            let (head, tail) = rest.split_at(at + marker.len());
            blanked.push_str(head);
            let digits = tail.len() - tail.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            blanked.push_str(if digits > 0 { "N" } else { "" });
            rest = &tail[digits..];
        }
        blanked.push_str(rest);
        out = blanked;
    }
    out
}

#[test]
fn shorthands_generate_exactly_the_fields_they_stand_for() {
    let (long, short) = (generate(WRITTEN_OUT), generate(SHORT));
    assert_eq!(long.len(), short.len());
    for (long, short) in long.iter().zip(&short) {
        assert_eq!(long.name, short.name);
        assert_eq!(without_lines(&long.contents), without_lines(&short.contents), "{} differs", long.name);
    }
}

#[test]
fn line_numbers_are_all_that_is_blanked() {
    assert_eq!(without_lines("(schema line 12), \"line\": 7, line 3"), "(schema line N), \"line\": N, line 3");
}
