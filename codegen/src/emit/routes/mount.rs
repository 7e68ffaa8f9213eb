//! How `configure` mounts the resources: grouped under `web::scope`s by their leading segments,
//! so that a request is matched against a few scope prefixes and then the resources of one scope,
//! instead of against every resource in turn (actix-web tries services in registration order,
//! and every pattern with a `{…}` segment is a regex match).
//!
//! The grouping never changes which resource answers a path (and so which 404 or 405): a scope
//! that matches a path's prefix takes the path for good, so each scope must hold every resource
//! that could match a path under its prefix, in the order the flat list tried them.
//! - Resources whose first segment is static (`/admin/…`) are grouped by that segment, scoped at
//!   the static prefix all of them share (`/admin/tenants`; a scope's static prefix is a string
//!   comparison, where a lone resource with a parameter would be a regex match).
//! - Resources whose first segment is a parameter (`/{tenant}/…`) go into one scope on that
//!   segment, mounted last: it takes every path the static scopes did not.
//! - A parameter-first resource could also match under a static prefix (`/{tenant}/tenants/x`
//!   under `/admin/tenants`, for the tenant named `admin`); then, or when parameter-first resources
//!   start with differently named parameters, everything stays a flat list, as before.

use std::collections::BTreeSet;

/// One `cfg.service(…)` of `configure`.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Mount<'p> {
    /// A resource at the top level, at its full path.
    Resource(&'p str),
    /// `web::scope(prefix)` holding these resources (full paths, each starting with `prefix`),
    /// in the order given.
    Scope { prefix: String, paths: Vec<&'p str> },
}

/// The mounts of `paths`, given in the order a flat list of resources would try them.
pub(super) fn plan<'p>(paths: &[&'p str]) -> Vec<Mount<'p>> {
    let flat = || paths.iter().map(|path| Mount::Resource(path)).collect();
    let (parameter_first, static_first): (Vec<&str>, Vec<&str>) =
        paths.iter().partition(|path| segments(path).first().is_some_and(|head| is_parameter(head)));
    let heads: BTreeSet<&str> = parameter_first.iter().map(|path| segments(path)[0]).collect();
    if heads.len() > 1 {
        return flat();
    }
    let mut mounts = Vec::new();
    for group in by_head(&static_first) {
        let prefix = static_prefix(&group);
        if parameter_first.iter().any(|path| may_match_under(path, &prefix)) {
            return flat();
        }
        mounts.push(Mount::Scope { prefix: join(&prefix), paths: group });
    }
    if let Some(head) = heads.first() {
        mounts.push(Mount::Scope { prefix: format!("/{head}"), paths: parameter_first });
    }
    mounts
}

/// The segments of a path: `/{tenant}/oauth2/token` → `["{tenant}", "oauth2", "token"]`.
fn segments(path: &str) -> Vec<&str> {
    path.trim_start_matches('/').split('/').collect()
}

fn is_parameter(segment: &str) -> bool {
    segment.starts_with('{')
}

fn join(segments: &[&str]) -> String {
    segments.iter().map(|segment| format!("/{segment}")).collect()
}

/// Static-first paths grouped by first segment, groups in order of first appearance, paths in
/// their given order.
fn by_head<'p>(paths: &[&'p str]) -> Vec<Vec<&'p str>> {
    let mut groups: Vec<Vec<&str>> = Vec::new();
    for path in paths {
        let head = segments(path)[0];
        match groups.iter_mut().find(|group| segments(group[0])[0] == head) {
            Some(group) => group.push(path),
            None => groups.push(vec![path]),
        }
    }
    groups
}

/// The leading static segments all `paths` share (at least their common first segment).
fn static_prefix<'p>(paths: &[&'p str]) -> Vec<&'p str> {
    let first = segments(paths[0]);
    let shared = |index: usize| {
        let segment = first[index];
        !is_parameter(segment) && paths.iter().all(|path| segments(path).get(index) == Some(&segment))
    };
    first.iter().enumerate().take_while(|(index, _)| shared(*index)).map(|(_, segment)| *segment).collect()
}

/// Whether `pattern` matches some path equal to or under `prefix` (static segments): each of
/// the prefix's segments is matched by a parameter or the same literal.
fn may_match_under(pattern: &str, prefix: &[&str]) -> bool {
    let pattern = segments(pattern);
    pattern.len() >= prefix.len()
        && pattern.iter().zip(prefix).all(|(segment, wanted)| is_parameter(segment) || segment == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope<'p>(prefix: &str, paths: &[&'p str]) -> Mount<'p> {
        Mount::Scope { prefix: prefix.into(), paths: paths.to_vec() }
    }

    #[test]
    fn static_groups_scope_at_their_shared_prefix_and_parameters_last() {
        let paths = [
            "/admin/tenants",
            "/.well-known/oauth-authorization-server/{tenant}",
            "/admin/tenants/{id}",
            "/{tenant}/oauth2/token",
            "/admin/tenants/{tenant}/users/{id}",
            "/{tenant}/oauth2/register/{id}",
        ];
        assert_eq!(
            plan(&paths),
            [
                scope(
                    "/admin/tenants",
                    &["/admin/tenants", "/admin/tenants/{id}", "/admin/tenants/{tenant}/users/{id}"]
                ),
                scope("/.well-known/oauth-authorization-server", &["/.well-known/oauth-authorization-server/{tenant}"]),
                scope("/{tenant}", &["/{tenant}/oauth2/token", "/{tenant}/oauth2/register/{id}"]),
            ]
        );
    }

    #[test]
    fn a_parameter_first_route_under_a_static_prefix_keeps_the_flat_list() {
        // `/admin/tenants/x` is the tenant `admin`'s `/tenants/{id}`: only the flat order says
        // which resource answers it.
        let paths = ["/admin/tenants", "/admin/tenants/{id}", "/{tenant}/tenants/{id}"];
        assert_eq!(plan(&paths), paths.map(Mount::Resource));
        let paths = ["/admin/tenants", "/admin/users", "/{tenant}/{page}"];
        assert_eq!(plan(&paths), paths.map(Mount::Resource));
        // A single static resource is checked too: `/oauth2/token` is the tenant `oauth2`'s.
        let paths = ["/{tenant}/token", "/oauth2/token"];
        assert_eq!(plan(&paths), paths.map(Mount::Resource));
    }

    #[test]
    fn parameter_first_routes_under_different_names_keep_the_flat_list() {
        let paths = ["/{tenant}/a", "/{org}/b"];
        assert_eq!(plan(&paths), paths.map(Mount::Resource));
    }

    #[test]
    fn a_route_beside_a_static_prefix_does_not_stop_scoping() {
        // `/{tenant}/oauth2/…` never matches under `/admin/tenants`: its second segment is literal.
        let paths = ["/admin/tenants", "/admin/tenants/{id}", "/{tenant}/oauth2/token", "/{tenant}"];
        assert_eq!(
            plan(&paths),
            [
                scope("/admin/tenants", &["/admin/tenants", "/admin/tenants/{id}"]),
                scope("/{tenant}", &["/{tenant}/oauth2/token", "/{tenant}"]),
            ]
        );
    }
}
