//! The OpenAPI document at `/api/schema/` and its explorer at `/api/docs/`: the document is the
//! one the router was built from, every operation it lists answers at its path with a status it
//! documents, every reference in it resolves, and the explorer's files come from the server
//! under a Content-Security-Policy of their own.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// The explorer's policy: the site's, but for Swagger UI's inline styles.
const EXPLORER_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

async fn served_document(app: &TestApp) -> Value {
    let response = app.get("/api/schema/", None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["Content-Type"], "application/json");
    response.json().await.unwrap()
}

/// Every `(method, path)` the document lists.
fn operations(document: &Value) -> Vec<(String, String)> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.push((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

#[actix_web::test]
async fn the_served_schema_is_the_document_of_the_endpoint_list() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;

    let served = served_document(&app).await;

    assert_eq!(served["openapi"], "3.1.0");
    assert_eq!(
        served,
        serde_json::to_value(server::routes::document()).unwrap()
    );
}

#[actix_web::test]
async fn the_document_lists_every_endpoint_of_the_api() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;

    let mut listed = operations(&served_document(&app).await);
    listed.sort();

    let expected = [
        ("GET", "/.well-known/jwks.json"),
        ("GET", "/api/hello/"),
        ("GET", "/api/me/"),
        ("GET", "/api/schema/"),
        ("GET", "/healthz"),
        ("GET", "/hello/"),
        ("GET", "/ping/"),
        ("POST", "/api/logout/all/"),
        ("POST", "/api/password/change/"),
        ("POST", "/api/register/"),
        ("POST", "/api/session/"),
        ("POST", "/api/session/logout/"),
        ("POST", "/api/session/password/"),
        ("POST", "/api/session/refresh/"),
        ("POST", "/api/token/"),
        ("POST", "/api/token/blacklist/"),
        ("POST", "/api/token/refresh/"),
        ("POST", "/api/token/verify/"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    assert_eq!(listed, expected);
}

#[actix_web::test]
async fn every_documented_operation_answers_at_its_path_with_a_documented_status() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;
    let document = served_document(&app).await;

    for (method, path) in operations(&document) {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = app.client.request(method.clone(), app.url(&path));
        if method == Method::POST {
            request = request
                .header("X-Requested-With", "XMLHttpRequest")
                .json(&json!({}));
        }
        let status = request.send().await.unwrap().status().as_u16();

        let documented = &document["paths"][&path][method.as_str().to_lowercase()]["responses"];
        assert!(
            documented.get(status.to_string()).is_some(),
            "{method} {path} answered {status}, which its documentation does not list: {documented}"
        );
        assert!(
            ![404, 405].contains(&status),
            "{method} {path} answered {status}"
        );
    }
}

#[actix_web::test]
async fn every_reference_in_the_document_resolves() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;
    let document = served_document(&app).await;

    let mut references = Vec::new();
    collect_references(&document, &mut references);

    assert!(
        references.len() > 50,
        "only {} references",
        references.len()
    );
    for reference in references {
        let pointer = reference.trim_start_matches('#');
        assert!(
            document.pointer(pointer).is_some(),
            "{reference} names nothing in the document"
        );
    }
}

fn collect_references(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                into.push(reference.clone());
            }
            map.values().for_each(|v| collect_references(v, into));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, into)),
        _ => {}
    }
}

#[actix_web::test]
async fn the_security_schemes_operations_name_exist() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;
    let document = served_document(&app).await;
    let schemes = document["components"]["securitySchemes"]
        .as_object()
        .unwrap();

    let mut named = 0;
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            for requirement in operation["security"].as_array().into_iter().flatten() {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(schemes.contains_key(scheme), "{scheme} is not a scheme");
                    named += 1;
                }
            }
        }
    }
    assert_eq!(named, 8, "requirements named: {named}");
}

#[actix_web::test]
async fn session_operations_document_their_header_and_its_403() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;
    let document = served_document(&app).await;

    for path in [
        "/api/session/",
        "/api/session/refresh/",
        "/api/session/logout/",
        "/api/session/password/",
    ] {
        let operation = &document["paths"][path]["post"];
        assert_eq!(
            operation["parameters"],
            json!([{
                "name": "X-Requested-With",
                "in": "header",
                "description": "A form or link on another site cannot send it.",
                "required": true,
                "schema": {"type": "string", "enum": ["XMLHttpRequest"]}
            }]),
            "{path}"
        );
        assert_eq!(
            operation["responses"]["403"]["$ref"],
            "#/components/responses/CsrfFailed"
        );
    }
}

#[actix_web::test]
async fn every_body_is_documented_as_json_and_as_a_form() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;
    let document = served_document(&app).await;

    let token = &document["paths"]["/api/token/"]["post"]["requestBody"]["content"];

    let media_types: Vec<&String> = token.as_object().unwrap().keys().collect();
    assert_eq!(
        media_types,
        ["application/json", "application/x-www-form-urlencoded"]
    );
    assert_eq!(
        token["application/x-www-form-urlencoded"]["schema"]["$ref"],
        "#/components/schemas/Credentials"
    );
}

#[actix_web::test]
async fn protected_operations_name_the_bearer_scheme_and_their_401() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;
    let document = served_document(&app).await;

    let hello = &document["paths"]["/hello/"]["get"];

    assert_eq!(hello["security"], json!([{"bearer": []}]));
    assert_eq!(
        hello["responses"]["401"]["$ref"],
        "#/components/responses/Unauthorized"
    );
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"],
        json!({
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The `access` token of `POST /api/token/`, as `Authorization: Bearer <token>`."
        })
    );
}

#[actix_web::test]
async fn the_explorer_is_served_with_a_content_security_policy_of_its_own() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;

    let response = app.get("/api/docs/", None).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["Content-Type"], "text/html");
    assert_eq!(
        response.headers()["Content-Security-Policy"],
        EXPLORER_POLICY
    );
    assert_eq!(response.headers()["X-Content-Type-Options"], "nosniff");
    let page = response.text().await.unwrap();
    assert!(page.contains("swagger-ui"), "{page}");
}

#[actix_web::test]
async fn the_explorer_page_names_no_file_on_another_server() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;

    let page = app.get("/api/docs/", None).await.text().await.unwrap();

    assert!(!page.contains("://"), "{page}");
    for file in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        assert!(page.contains(file), "the page does not load {file}");
        let response = app.get(&format!("/api/docs/{file}"), None).await;
        assert_eq!(response.status(), 200, "{file}");
        assert_eq!(
            response.headers()["Content-Security-Policy"],
            EXPLORER_POLICY
        );
    }
}

#[actix_web::test]
async fn the_explorer_reads_this_servers_schema_and_sends_nothing_to_a_validator() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;

    let script = app
        .get("/api/docs/swagger-initializer.js", None)
        .await
        .text()
        .await
        .unwrap();

    assert!(script.contains(r#""url": "/api/schema/""#), "{script}");
    assert!(script.contains(r#""validatorUrl": "none""#), "{script}");
}

#[actix_web::test]
async fn a_file_the_explorer_does_not_have_is_drfs_404() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;

    let response = app.get("/api/docs/no-such-file.js", None).await;

    assert_eq!(response.status(), 404);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "Not found."})
    );
}

#[actix_web::test]
async fn the_explorer_without_its_trailing_slash_redirects_to_it() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;

    let response = app.get("/api/docs", None).await;

    assert_eq!(response.status(), 301);
    assert_eq!(response.headers()["Location"], "/api/docs/");
}

#[actix_web::test]
async fn a_path_that_leaves_the_explorers_files_is_a_404() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;

    for path in [
        "/api/docs/%2fproc%2fself%2fexe",
        "/api/docs/%2fetc%2fhostname",
        "/api/docs/..%2f..%2fCargo.toml",
        "/api/docs/swagger-ui-bundle.js.map",
        "/api/docs/oauth2-redirect.html",
    ] {
        let response = app.get(path, None).await;

        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"detail": "Not found."}),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn another_method_on_the_explorer_is_drfs_405() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;

    let response = app.client.post(app.url("/api/docs/")).send().await.unwrap();

    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["Allow"], "GET, HEAD, OPTIONS");
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "Method \"POST\" not allowed."})
    );
}

#[actix_web::test]
async fn the_explorer_answers_a_client_that_takes_only_html() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;

    let response = app
        .client
        .get(app.url("/api/docs/"))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["Content-Type"], "text/html");
}
