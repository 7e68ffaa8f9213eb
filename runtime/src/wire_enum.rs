//! [`wire_enum!`](crate::wire_enum): a closed set of protocol words as a Rust enum, each
//! variant spelled once with its wire value.
//!
//! Both halves of the boundary use it. The runtime declares its vocabulary with it
//! ([`crate::vocab`]: `ClientAuthMethod`, `ApplicationType`, ...), and keygate-codegen emits it
//! for every schema `enum` field that no role reads through a runtime enum (`book::Condition`).
//! keygate-codegen reads the invocations in hook modules with `syn`, so the wire values a role
//! binding is checked against are the ones written here, not a copy.
//!
//! A value stores as the `TEXT`/`VARCHAR` column a `String` field has (sea-orm
//! `ColumnType::String(StringLen::None)`), holding the wire value, so a column keeps its type and
//! its rows when its field becomes an enum. It serializes as the wire value; deserializing
//! anything else fails with "must be one of: ...", which a request body reports as a 422 naming
//! the field. A stored value outside the set is a decoding error of that row, never a variant.

/// Declares `enum NAME { Variant = "wire value", ... }` with:
///
/// - `Debug`, `Clone`, `Copy`, `PartialEq`, `Eq`, `Hash`, `PartialOrd`, `Ord`;
/// - `ALL` (every variant, in order), `VALUES` (their wire values), `as_str`, `from_wire`;
/// - `Display` (the wire value), serde `Serialize`/`Deserialize` by wire value;
/// - the sea-orm column-value traits (`ValueType`, `Nullable`, `TryGetable`, `Into<Value>`),
///   stored as a string column.
///
/// `wire_enum!(impl NAME { Variant = "wire value", ... })` adds the same to an enum declared
/// beside it with those derives, which is how generated code uses it.
///
/// ```
/// keygate_runtime::wire_enum! {
///     /// How worn a book is.
///     pub enum Condition {
///         /// As bought.
///         New = "new",
///         /// Read a few times.
///         Good = "good",
///     }
/// }
/// assert_eq!(Condition::Good.as_str(), "good");
/// assert_eq!(Condition::from_wire("new"), Some(Condition::New));
/// assert_eq!(Condition::VALUES, ["new", "good"]);
/// ```
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $value:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        $crate::wire_enum!(impl $name { $($variant = $value),+ });
    };
    // The impls alone, for an enum declared beside it (generated code declares the enum as a
    // plain item, so it reads as one): it must derive `Clone` and `Copy`.
    (impl $name:ident { $($variant:ident = $value:literal),+ $(,)? }) => {
        impl $name {
            /// Every wire value, in declaration order.
            pub const VALUES: &'static [&'static str] = &[$($value),+];

            /// Every variant, in declaration order.
            pub const ALL: [$name; $name::VALUES.len()] = [$($name::$variant),+];

            /// The wire value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $value, )+
                }
            }

            /// The variant whose wire value is `value`, if any (exact, case-sensitive).
            pub fn from_wire(value: &str) -> ::core::option::Option<Self> {
                match value {
                    $( $value => ::core::option::Option::Some($name::$variant), )+
                    _ => ::core::option::Option::None,
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::wire_enum::deserialize(deserializer, $name::VALUES, $name::from_wire)
            }
        }

        impl ::core::convert::From<$name> for $crate::__private::sea_orm::Value {
            fn from(value: $name) -> Self {
                $crate::__private::sea_orm::Value::from(value.as_str())
            }
        }

        impl $crate::__private::sea_orm::sea_query::Nullable for $name {
            fn null() -> $crate::__private::sea_orm::Value {
                $crate::__private::sea_orm::Value::String(::core::option::Option::None)
            }
        }

        impl $crate::__private::sea_orm::sea_query::ValueType for $name {
            fn try_from(
                value: $crate::__private::sea_orm::Value,
            ) -> ::core::result::Result<Self, $crate::__private::sea_orm::sea_query::ValueTypeErr> {
                match value {
                    $crate::__private::sea_orm::Value::String(::core::option::Option::Some(text)) => {
                        $name::from_wire(&text).ok_or($crate::__private::sea_orm::sea_query::ValueTypeErr)
                    }
                    _ => ::core::result::Result::Err($crate::__private::sea_orm::sea_query::ValueTypeErr),
                }
            }

            fn type_name() -> ::std::string::String {
                ::core::stringify!($name).to_owned()
            }

            fn array_type() -> $crate::__private::sea_orm::sea_query::ArrayType {
                $crate::__private::sea_orm::sea_query::ArrayType::String
            }

            fn column_type() -> $crate::__private::sea_orm::sea_query::ColumnType {
                <::std::string::String as $crate::__private::sea_orm::sea_query::ValueType>::column_type()
            }
        }

        impl $crate::__private::sea_orm::TryGetable for $name {
            fn try_get_by<I: $crate::__private::sea_orm::ColIdx>(
                row: &$crate::__private::sea_orm::QueryResult,
                index: I,
            ) -> ::core::result::Result<Self, $crate::__private::sea_orm::TryGetError> {
                let text = <::std::string::String as $crate::__private::sea_orm::TryGetable>::try_get_by(row, index)?;
                $name::from_wire(&text).ok_or_else(|| $crate::wire_enum::stored_value_error(::core::stringify!($name), &text))
            }
        }
    };
}

/// Deserializes a wire value; anything else is "must be one of: ..." (`values`).
#[doc(hidden)]
pub fn deserialize<'de, D, T>(
    deserializer: D,
    values: &'static [&'static str],
    from_wire: fn(&str) -> Option<T>,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Visitor<T> {
        values: &'static [&'static str],
        from_wire: fn(&str) -> Option<T>,
    }

    impl<T> serde::de::Visitor<'_> for Visitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "one of: {}", self.values.join(", "))
        }

        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<T, E> {
            (self.from_wire)(value).ok_or_else(|| E::custom(format!("must be one of: {}", self.values.join(", "))))
        }
    }

    deserializer.deserialize_str(Visitor { values, from_wire })
}

/// The decoding error of a stored value outside the enum `name` (a row written around the
/// schema, or a value the schema no longer has).
#[doc(hidden)]
pub fn stored_value_error(name: &str, value: &str) -> sea_orm::TryGetError {
    sea_orm::TryGetError::DbErr(sea_orm::DbErr::Type(format!("`{value}` is not a value of {name}")))
}

#[cfg(test)]
mod tests {
    use sea_orm::entity::prelude::*;
    use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
    use sea_orm::{DbBackend, QueryTrait, Schema};

    crate::wire_enum! {
        /// A test vocabulary.
        pub enum Shade {
            /// Light.
            Light = "light",
            /// Dark, with a wire value that is no Rust identifier.
            Dark = "dark-ish",
        }
    }

    mod thing {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "things")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub plain: String,
            #[sea_orm(default_value = "light")]
            pub shade: super::Shade,
            #[sea_orm(nullable)]
            pub other: Option<super::Shade>,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    #[test]
    fn wire_values_round_trip_through_serde_and_refuse_others() {
        assert_eq!(serde_json::to_string(&Shade::Dark).unwrap(), r#""dark-ish""#);
        assert_eq!(serde_json::from_str::<Shade>(r#""light""#).unwrap(), Shade::Light);
        let error = serde_json::from_str::<Shade>(r#""Light""#).unwrap_err().to_string();
        assert!(error.starts_with("must be one of: light, dark-ish"), "{error}");
        let error = serde_json::from_str::<Shade>("3").unwrap_err().to_string();
        assert!(error.contains("expected one of: light, dark-ish"), "{error}");
        assert_eq!(Shade::ALL, [Shade::Light, Shade::Dark]);
        assert_eq!(Shade::Dark.to_string(), "dark-ish");
    }

    #[test]
    fn an_enum_column_is_the_string_column_it_replaces() {
        let sqlite =
            Schema::new(DbBackend::Sqlite).create_table_from_entity(thing::Entity).to_string(SqliteQueryBuilder);
        let postgres =
            Schema::new(DbBackend::Postgres).create_table_from_entity(thing::Entity).to_string(PostgresQueryBuilder);
        for sql in [sqlite, postgres] {
            assert!(sql.contains(r#""plain" varchar NOT NULL"#), "{sql}");
            assert!(sql.contains(r#""shade" varchar NOT NULL DEFAULT 'light'"#), "{sql}");
            assert!(sql.contains(r#""other" varchar,"#) || sql.contains(r#""other" varchar )"#), "{sql}");
        }
        let query = thing::Entity::find()
            .filter(thing::Column::Shade.eq(Shade::Dark))
            .filter(thing::Column::Other.eq(Option::<Shade>::None))
            .build(DbBackend::Postgres)
            .to_string();
        assert!(query.ends_with(r#"WHERE "things"."shade" = 'dark-ish' AND "things"."other" IS NULL"#), "{query}");
    }

    #[test]
    fn values_convert_to_and_from_sea_orm_values() {
        use sea_orm::sea_query::ValueType;
        assert_eq!(Value::from(Shade::Light), Value::from("light"));
        assert_eq!(<Shade as ValueType>::try_from(Value::from("dark-ish")).ok(), Some(Shade::Dark));
        assert!(<Shade as ValueType>::try_from(Value::from("grey")).is_err());
        assert_eq!(<Option<Shade> as ValueType>::try_from(Value::String(None)).ok(), Some(None));
    }
}
