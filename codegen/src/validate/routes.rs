//! Routes: `METHOD /path` syntax, and no two routes (ops or endpoints) with the same method and
//! path shape.

use super::Cx;
use crate::catalogue::Code;
use crate::diagnostics::Diagnostic;
use crate::ir::Ir;
use crate::schema::{OpEntry, SchemaFile};
use crate::span::Pos;

/// A route already taken: its `METHOD /shape` key, who serves it, and where.
struct Taken {
    key: String,
    owner: String,
    op: String,
    line: usize,
}

impl Cx<'_> {
    /// Endpoints first, then entity ops in order: each route must be new.
    pub(super) fn check_routes(&mut self, ir: &Ir, file: &SchemaFile) {
        let mut seen: Vec<Taken> = Vec::new();
        for endpoint in &ir.endpoints {
            let key = format!("{} {}", endpoint.method, route_shape(&endpoint.path));
            let Some(other) = seen.iter().find(|t| t.key == key) else {
                seen.push(Taken { key, owner: "endpoints".into(), op: endpoint.name.clone(), line: endpoint.line });
                continue;
            };
            let pos = file
                .endpoints
                .iter()
                .find(|(k, _)| k.as_str() == endpoint.name)
                .map(|(_, d)| Pos::of(&d.http))
                .unwrap_or_default();
            let diagnostic = duplicate_route(pos, &endpoint.method, &endpoint.path, other);
            self.error(diagnostic);
        }
        for entity in &ir.entities {
            for op in &entity.ops {
                let key = format!("{} {}", op.method, route_shape(&op.path));
                let Some(other) = seen.iter().find(|t| t.key == key) else {
                    seen.push(Taken { key, owner: entity.name.clone(), op: op.name.clone(), line: op.line });
                    continue;
                };
                let pos = op_position(file, &entity.name, &op.name).unwrap_or(Pos { line: op.line, column: 1 });
                let diagnostic = duplicate_route(pos, &op.method, &op.path, other);
                self.error(diagnostic);
            }
        }
    }
}

fn duplicate_route(pos: Pos, method: &str, path: &str, other: &Taken) -> Diagnostic {
    Diagnostic::error(
        Code::DuplicateRoute,
        pos,
        format!("route `{method} {path}` is already served by `{}.{}`", other.owner, other.op),
    )
    .label("same method and path")
    .help(format!("change `http` here or at line {}", other.line))
}

/// Position of `ops.<op>` of `<entity>`, when written.
fn op_position(file: &SchemaFile, entity: &str, op: &str) -> Option<Pos> {
    let def = file.entities.get(entity)?;
    let (_, entry) = def.ops.iter().find(|(k, _)| k.as_str() == op)?;
    match &**entry {
        OpEntry::Def(def) => def.http.as_ref().map(Pos::of).or(Some(Pos::of(entry))),
        OpEntry::Enabled(_) => Some(Pos::of(entry)),
    }
}

/// The path with every parameter written `{}`: two routes of one shape match the same requests.
fn route_shape(path: &str) -> String {
    path.split('/').map(|segment| if segment.starts_with('{') { "{}" } else { segment }).collect::<Vec<_>>().join("/")
}

/// `METHOD /path`, where `params` (`{id}` for entity ops, `{tenant}` and `{id}` for endpoints)
/// are the only path parameters allowed; the error is the hint to show.
pub(super) fn parse_http(http: &str, params: &[&str]) -> Result<(String, String), String> {
    let mut parts = http.split_whitespace();
    let (Some(method), Some(path), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err("write it as `POST /things/action`".into());
    };
    let method = method.to_ascii_uppercase();
    if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
        return Err(format!("`{method}` is not a method; use GET, POST, PUT, PATCH or DELETE"));
    }
    if !path.starts_with('/') {
        return Err(format!("the path must start with `/`: `{method} /{path}`"));
    }
    for segment in path.split('/').skip(1) {
        let is_param = segment.starts_with('{') && segment.ends_with('}');
        if is_param && !params.contains(&segment) {
            return Err(format!("`{segment}` is not a known path parameter; use {}", params.join(" or ")));
        }
        if !is_param && !segment.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
            return Err(format!("path segment `{segment}` has characters routes cannot match"));
        }
    }
    Ok((method, path.trim_end_matches('/').to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_method_and_path() {
        assert_eq!(parse_http("post /a/{id}/b", &["{id}"]).unwrap(), ("POST".into(), "/a/{id}/b".into()));
        assert!(parse_http("FETCH /a", &["{id}"]).is_err());
        assert!(parse_http("GET a", &["{id}"]).is_err());
        assert!(parse_http("GET /a/{user}", &["{id}"]).is_err());
        assert!(parse_http("GET /{tenant}/x", &["{tenant}", "{id}"]).is_ok());
    }

    #[test]
    fn route_shapes_ignore_parameter_names() {
        assert_eq!(route_shape("/a/{id}/b"), route_shape("/a/{tenant}/b"));
        assert_ne!(route_shape("/a/{id}"), route_shape("/a/b"));
    }
}
