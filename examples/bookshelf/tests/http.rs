//! The bookshelf service over HTTP: generated CRUD plus its own hook.

use actix_web::http::StatusCode;
use actix_web::{test, web};
use keygate_runtime::{Runtime, RuntimeConfig};
use serde_json::{Value, json};

const TOKEN: &str = "bookshelf-admin-token-for-tests-only";

#[actix_web::test]
async fn shelves_and_books_with_a_custom_hook() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("books.db").display());
    let db = keygate_runtime::db::connect(&url).await.unwrap();
    bookshelf::migrate(&db).await.unwrap();
    let admin = keygate_runtime::admin_credential::bootstrap(&db, Some(TOKEN)).await.unwrap().credentials;
    let master = keygate_runtime::jose::MasterKey::from_bytes(&[9u8; 32]).unwrap();
    let runtime = web::Data::new(Runtime::new(db, RuntimeConfig::default(), admin, master));
    let app = test::init_service(bookshelf::app(runtime)).await;

    let call = async |method: &str, path: &str, body: Option<Value>| -> (StatusCode, Value) {
        let mut req = test::TestRequest::default()
            .method(method.parse().unwrap())
            .uri(path)
            .insert_header(("authorization", format!("Bearer {TOKEN}")));
        if let Some(body) = body {
            req = req.insert_header(("content-type", "application/json")).set_payload(body.to_string());
        }
        let response = test::call_service(&app, req.to_request()).await;
        let status = response.status();
        let bytes = test::read_body(response).await;
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    };

    let (status, shelf) = call("POST", "/api/shelves", Some(json!({ "name": "Physics" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{shelf}");
    let shelf_id = shelf["id"].as_str().unwrap().to_owned();

    // The hook normalises the ISBN and stores it; the virtual input is never returned.
    let (status, book) = call(
        "POST",
        "/api/books",
        Some(json!({ "shelf_id": shelf_id, "title": "Gravitation", "isbn_text": "978-0-306-40615-7" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{book}");
    assert_eq!(book["isbn"], "9780306406157");
    assert_eq!(book["condition"], "good", "enum default");
    assert!(book.get("isbn_text").is_none());

    // The hook's refusal is a 422 naming the field; nothing is written.
    let (status, problem) = call(
        "POST",
        "/api/books",
        Some(json!({ "shelf_id": shelf_id, "title": "Typo", "isbn_text": "978-0-306-40615-8" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "isbn_text");
    let (_, page) = call("GET", &format!("/api/books?shelf_id={shelf_id}"), None).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);

    // Enum values are checked (in bodies a 422 naming the field, in list filters a 400);
    // relations are embedded on request; unique ISBNs conflict.
    let book_path = format!("/api/books/{}", book["id"].as_str().unwrap());
    let (status, problem) = call("PATCH", &book_path, Some(json!({ "condition": "mint" }))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "condition", "{problem}");
    assert_eq!(problem["errors"][0]["detail"], "must be one of: new, good, worn", "{problem}");
    let (status, worn) = call("PATCH", &book_path, Some(json!({ "condition": "worn" }))).await;
    assert_eq!((status, &worn["condition"]), (StatusCode::OK, &json!("worn")));
    let (_, page) = call("GET", "/api/books?condition=worn", None).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (status, problem) = call("GET", "/api/books?condition=mint", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    let (_, with_books) = call("GET", &format!("/api/shelves/{shelf_id}?include=books"), None).await;
    assert_eq!(with_books["books"][0]["title"], "Gravitation");
    let (status, _) = call(
        "POST",
        "/api/books",
        Some(json!({ "shelf_id": shelf_id, "title": "Again", "isbn_text": "9780306406157" })),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Deleting the shelf cascades to its books.
    let (status, _) = call("DELETE", &format!("/api/shelves/{shelf_id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, page) = call("GET", "/api/books", None).await;
    assert!(page["items"].as_array().unwrap().is_empty());
}
