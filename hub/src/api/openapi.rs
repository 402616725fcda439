//! The OpenAPI 3.0 document of `/api/v1`, served at
//! `GET /api/v1/openapi.json`.
//!
//! One table, [`OPERATIONS`], lists every route with what it does, who may
//! call it, what it takes and what it answers; the document is built from
//! it. A test compares the table with the routes the router serves, both
//! ways, so the document cannot fall behind.

use axum::Json;
use serde_json::{Value, json};

/// How a route is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credential (sign-in, links).
    Open,
    /// Session cookie, API token or the operator token; then the access
    /// model decides (the permission named in the summary).
    Caller,
}

/// One documented operation.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// HTTP method, lower case.
    pub method: &'static str,
    /// Path under `/api/v1`, with `{param}`s.
    pub path: &'static str,
    /// What it does and who may.
    pub summary: &'static str,
    /// Authentication.
    pub access: Access,
    /// Request body schema (a key of [`schemas`]), if any.
    pub body: Option<&'static str>,
    /// Success status.
    pub ok: u16,
}

const fn op(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    access: Access,
    body: Option<&'static str>,
    ok: u16,
) -> Operation {
    Operation {
        method,
        path,
        summary,
        access,
        body,
        ok,
    }
}

use Access::{Caller, Open};

/// Every `/api/v1` operation.
pub const OPERATIONS: &[Operation] = &[
    op(
        "post",
        "/session",
        "Sign in with e-mail and password; sets the session cookie (throttled).",
        Open,
        Some("Login"),
        200,
    ),
    op(
        "get",
        "/session",
        "Who am I: user, organisation, role, sites, permissions.",
        Caller,
        None,
        200,
    ),
    op(
        "delete",
        "/session",
        "Sign out: this session ends at once.",
        Caller,
        None,
        204,
    ),
    op("get", "/sessions", "My live sessions.", Caller, None, 200),
    op(
        "delete",
        "/sessions/{handle}",
        "End one of my sessions.",
        Caller,
        None,
        204,
    ),
    op(
        "post",
        "/invitations/accept",
        "Set a password with an invitation link; the account becomes active.",
        Open,
        Some("TokenPassword"),
        204,
    ),
    op(
        "post",
        "/password-reset",
        "E-mail a single-use password reset link (same answer for unknown addresses).",
        Open,
        Some("Email"),
        202,
    ),
    op(
        "post",
        "/password-reset/complete",
        "Set a new password with the link; ends every session.",
        Open,
        Some("TokenPassword"),
        204,
    ),
    op("get", "/openapi.json", "This document.", Open, None, 200),
    op(
        "get",
        "/roles",
        "Every role with its description and the permissions it gives.",
        Caller,
        None,
        200,
    ),
    op(
        "post",
        "/organisations",
        "Create a customer or dealer (manage_organisations).",
        Caller,
        Some("NewOrganisation"),
        201,
    ),
    op(
        "get",
        "/organisations",
        "Organisations I may see.",
        Caller,
        None,
        200,
    ),
    op(
        "post",
        "/organisations/{org}/users",
        "Invite a user (manage_users; never above my role or beyond my sites).",
        Caller,
        Some("Invite"),
        201,
    ),
    op(
        "get",
        "/organisations/{org}/users",
        "Users I may see (my sites, my role and below).",
        Caller,
        None,
        200,
    ),
    op(
        "patch",
        "/users/{user}",
        "Edit a user's name, role or sites (manage_users; never myself).",
        Caller,
        Some("EditUser"),
        200,
    ),
    op(
        "post",
        "/users/{user}/revoke",
        "Revoke a user: sessions and tokens end at once (manage_users).",
        Caller,
        None,
        204,
    ),
    op(
        "get",
        "/organisations/{org}/sharing",
        "What the customer's users see.",
        Caller,
        None,
        200,
    ),
    op(
        "put",
        "/organisations/{org}/sharing",
        "Set what the customer's users see (manage_sharing).",
        Caller,
        Some("Sharing"),
        200,
    ),
    op(
        "post",
        "/organisations/{org}/sites",
        "Create a site or sub-site (manage_sites).",
        Caller,
        Some("NewSite"),
        201,
    ),
    op(
        "get",
        "/organisations/{org}/sites",
        "Sites I may see (view_sites).",
        Caller,
        None,
        200,
    ),
    op(
        "put",
        "/organisations/{org}/dealers/{dealer}",
        "Record that a dealer serves this customer (manage_organisations).",
        Caller,
        None,
        204,
    ),
    op(
        "delete",
        "/organisations/{org}/dealers/{dealer}",
        "The dealer no longer serves this customer (manage_organisations).",
        Caller,
        None,
        204,
    ),
    op(
        "get",
        "/organisations/{org}/audit",
        "The audit log, newest first (view_audit).",
        Caller,
        None,
        200,
    ),
    op(
        "post",
        "/organisations/{org}/dealer-access",
        "Grant a serving dealer 2 hours of access (grant_dealer_access: the owner).",
        Caller,
        Some("Grant"),
        201,
    ),
    op(
        "get",
        "/organisations/{org}/dealer-access",
        "Dealer-access grants, newest first.",
        Caller,
        None,
        200,
    ),
    op(
        "post",
        "/organisations/{org}/dealer-access/request",
        "A dealer user asks the owners for 24 hours (e-mailed confirm link).",
        Caller,
        None,
        202,
    ),
    op(
        "delete",
        "/organisations/{org}/dealer-access/{grant}",
        "End a grant early (grant_dealer_access).",
        Caller,
        None,
        204,
    ),
    op(
        "post",
        "/dealer-access/confirm",
        "The signed-in owner confirms a dealer's request: 24 hours.",
        Caller,
        Some("Token"),
        201,
    ),
    op(
        "post",
        "/tokens",
        "Create an API token with some of my permissions (secret shown once).",
        Caller,
        Some("NewToken"),
        201,
    ),
    op("get", "/tokens", "My API tokens.", Caller, None, 200),
    op(
        "delete",
        "/tokens/{id}",
        "Revoke one of my API tokens.",
        Caller,
        None,
        204,
    ),
    op(
        "get",
        "/units",
        "Units I may see, with state, health and pending config; pages of `limit` (default 1000) `after` a unit id (next page id in `X-Next-After`).",
        Caller,
        None,
        200,
    ),
    op(
        "get",
        "/units/{unit}/events",
        "A unit's events, newest first (view_events).",
        Caller,
        None,
        200,
    ),
    op(
        "put",
        "/units/{unit}/site",
        "Claim a unit onto a site (claim_units).",
        Caller,
        Some("AssignSite"),
        200,
    ),
    op(
        "post",
        "/units/{unit}/relocation",
        "Move a unit through relocation (relocate): relocating pauses monitoring; activation_requested (with the new position) puts an activation request in the centre's queue; the move's actor is who is signed in.",
        Caller,
        Some("Relocate"),
        200,
    ),
    op(
        "put",
        "/units/{unit}/relocation-support",
        "Record whether the unit's model can be relocated: {\"supported\": bool} (claim_units: installers and the operator); refused while it is relocating.",
        Caller,
        Some("RelocationSupport"),
        200,
    ),
    op(
        "get",
        "/units/{unit}/relocation",
        "A unit's relocation state, whether its model supports it, its position, and its latest activation request with the centre's decision and reason (view_units).",
        Caller,
        None,
        200,
    ),
    op(
        "put",
        "/sites/{site}",
        "Create or rename a site (operator administrators).",
        Caller,
        Some("SiteBody"),
        200,
    ),
    op(
        "get",
        "/sites/{site}",
        "A site's name, schedule, level and disarm, and its security status now with the reason in words (view_sites).",
        Caller,
        None,
        200,
    ),
    op(
        "put",
        "/sites/{site}/schedule",
        "Replace the weekly schedule (edit_schedule).",
        Caller,
        Some("Schedule"),
        200,
    ),
    op(
        "put",
        "/sites/{site}/schedule/days/{day}",
        "Set one weekday's armed windows, e.g. [\"18:00-07:00\"] (edit_schedule).",
        Caller,
        Some("Windows"),
        200,
    ),
    op(
        "post",
        "/sites/{site}/schedule/copy-day",
        "Copy one weekday's windows to the entire week (edit_schedule).",
        Caller,
        Some("CopyDay"),
        200,
    ),
    op(
        "put",
        "/sites/{site}/schedule/exceptions/{date}",
        "A dated exception: armed_all_day, disarmed_all_day or {windows} instead of the weekday (edit_schedule).",
        Caller,
        Some("DayException"),
        200,
    ),
    op(
        "delete",
        "/sites/{site}/schedule/exceptions/{date}",
        "Remove a dated exception (edit_schedule).",
        Caller,
        None,
        200,
    ),
    op(
        "put",
        "/sites/{site}/level",
        "Set the site to one of the operator's level profiles: {\"profile\": key} (set_level).",
        Caller,
        Some("SiteLevel"),
        200,
    ),
    op(
        "get",
        "/levels",
        "The operator's security-level profiles, in order (site counts for the operator only).",
        Caller,
        None,
        200,
    ),
    op(
        "put",
        "/levels/{key}",
        "Create or replace a level profile; every site on it gets the new level (operator administrators: manage_organisations).",
        Caller,
        Some("Level"),
        200,
    ),
    op(
        "delete",
        "/levels/{key}",
        "Remove a level profile no site uses; the last one stays (operator administrators).",
        Caller,
        None,
        204,
    ),
    op(
        "get",
        "/overview",
        "The landing page: recent alarms, response and handling times for from..to (default 7 days; if shared), the units for the map, and units needing attention (offline, tamper, camera lost, disk low, config pending) with why.",
        Caller,
        None,
        200,
    ),
    op(
        "get",
        "/clips/{id}",
        "A clip (video/mp4) or thumbnail (image/jpeg) of an alarm (view_clips; the customer's sharing and dealer access apply); single HTTP range requests (206, 416); every fetch audited as clip.view.",
        Caller,
        None,
        200,
    ),
    op(
        "get",
        "/sites/{site}/clip-retention",
        "How many days the site keeps its clips (view_sites; default 30).",
        Caller,
        None,
        200,
    ),
    op(
        "put",
        "/sites/{site}/clip-retention",
        "Set how many days the site keeps its clips, 1 to 365 (manage_sites; audited); older clips are deleted within minutes.",
        Caller,
        Some("Retention"),
        200,
    ),
    op(
        "post",
        "/units/{unit}/cameras/{camera}/live",
        "A stream token to watch this camera live, bound to me, the unit and the camera, for 5 minutes (view_live_video on the unit's site; never during dealer access; audited as live.view).",
        Caller,
        None,
        200,
    ),
    op(
        "get",
        "/sites/{site}/clip-settings",
        "The site's clip recording around alarms: pre_roll_s, post_roll_s, max_clip_s (view_sites; default 10, 20, 120).",
        Caller,
        None,
        200,
    ),
    op(
        "put",
        "/sites/{site}/clip-settings",
        "Set the site's clip recording: pre-roll 0-60 s, post-roll 1-300 s, longest clip from pre + post to 600 s (manage_sites; audited); the site's units get it as a new config and use it from their next alarm.",
        Caller,
        Some("ClipSettings"),
        200,
    ),
    op(
        "get",
        "/fleet",
        "Fleet health (view_fleet): counts of each problem over the units I watch, then the units (all, or ?problem=offline/tamper/camera_lost/disk_low/config_pending/relocating/activation_requested/any; ?site=) with online/offline since when, last heard, cameras, disk, tamper, relocation; paged by id with after and limit (default 200, at most 1000).",
        Caller,
        None,
        200,
    ),
    op(
        "get",
        "/alarms",
        "Alarms newest first on sites the caller may see alarms of; filters site, unit, from, to, status (waiting/claimed/acknowledged/handled/none), outcome; paging with before and limit (view_alarms).",
        Caller,
        None,
        200,
    ),
    op(
        "get",
        "/alarms/{id}",
        "One alarm: sensor, arm state at the time, centre handling, the incident report when shared (view_alarms), and, where the customer shares video (view_clips), its clips and thumbnails and any clip its unit reported discarded (clips_discarded, with the reason).",
        Caller,
        None,
        200,
    ),
    op(
        "get",
        "/response-times",
        "Response (received to acknowledged) and handling (acknowledged to handled) times, median and 90th percentile, overall and per site, for from..to (view_response_times).",
        Caller,
        None,
        200,
    ),
    op(
        "get",
        "/transmission",
        "Alarm delivery time (unit event to hub commit: mean, 95th percentile) and availability per unit and site for from..to, EN 50136-1 figures (view_fleet; units the caller may see).",
        Caller,
        None,
        200,
    ),
    op(
        "get",
        "/centre/queue",
        "Open alarm and tamper items on sites the caller handles alarms for, most urgent first, then oldest; escalated when unacknowledged beyond [centre] escalate_after_s (handle_alarms).",
        Caller,
        None,
        200,
    ),
    op(
        "post",
        "/centre/queue/{item}/claim",
        "Take an item; one at a time per operator, visible to all (handle_alarms, signed in).",
        Caller,
        None,
        200,
    ),
    op(
        "post",
        "/centre/queue/{item}/release",
        "Give a claimed item back before acknowledging it (the claimant).",
        Caller,
        None,
        200,
    ),
    op(
        "post",
        "/centre/queue/{item}/acknowledge",
        "Acknowledge a claimed item; ends its response time (the claimant).",
        Caller,
        None,
        200,
    ),
    op(
        "post",
        "/centre/queue/{item}/handle",
        "Handle an acknowledged item with an outcome and notes; ends its handling time (the claimant).",
        Caller,
        Some("Handle"),
        200,
    ),
    op(
        "post",
        "/centre/queue/{item}/share-report",
        "Share a handled item's incident report with the customer after review (customers whose sharing says incident_reports_after_review; handle_alarms).",
        Caller,
        None,
        200,
    ),
    op(
        "get",
        "/sites/{site}/contacts",
        "The site's contacts in call order (view_sites).",
        Caller,
        None,
        200,
    ),
    op(
        "put",
        "/sites/{site}/contacts",
        "Replace the contacts, in call order; at least one (manage_contacts).",
        Caller,
        Some("Contacts"),
        200,
    ),
    op(
        "delete",
        "/sites/{site}/contacts/{id}",
        "Remove a contact; never the last (manage_contacts).",
        Caller,
        None,
        200,
    ),
    op(
        "get",
        "/sites/{site}/report-sends",
        "The site's report e-mails (instant alarm e-mails and daily summaries), newest first, each with its delivery outcome and attempts (view_sites).",
        Caller,
        None,
        200,
    ),
    op(
        "get",
        "/sites/{site}/report-recipients",
        "Who receives the site's alarm e-mails and daily summary (view_sites).",
        Caller,
        None,
        200,
    ),
    op(
        "put",
        "/sites/{site}/report-recipients",
        "Replace the report recipients; each instant, daily or both (manage_report_recipients).",
        Caller,
        Some("Recipients"),
        200,
    ),
    op(
        "put",
        "/sites/{site}/disarm",
        "Disarm until a time, at most 7 days (disarm).",
        Caller,
        Some("Disarm"),
        200,
    ),
    op(
        "delete",
        "/sites/{site}/disarm",
        "Cancel the disarm (disarm).",
        Caller,
        None,
        200,
    ),
];

fn string() -> Value {
    json!({ "type": "string" })
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties, "additionalProperties": false })
}

/// Request body schemas by name.
fn schemas() -> Value {
    let scope = json!({
        "oneOf": [
            { "type": "string", "enum": ["all"] },
            { "type": "object", "required": ["only"], "properties": { "only": { "type": "array", "items": string() } }, "additionalProperties": false }
        ]
    });
    let week =
        json!({ "type": "object", "additionalProperties": { "type": "array", "items": string() } });
    json!({
        "Login": object(&["email", "password"], json!({ "email": string(), "password": string() })),
        "TokenPassword": object(&["token", "password"], json!({ "token": string(), "password": string() })),
        "Email": object(&["email"], json!({ "email": string() })),
        "Token": object(&["token"], json!({ "token": string() })),
        "NewOrganisation": object(&["kind", "name"], json!({ "kind": { "type": "string", "enum": ["operator", "customer", "dealer"] }, "name": string() })),
        "Invite": object(&["email", "name", "role"], json!({ "email": string(), "name": string(), "role": string(), "scope": scope })),
        "EditUser": object(&[], json!({ "name": string(), "role": string(), "scope": scope })),
        "Sharing": object(&["incident_reports", "response_times", "clips", "live_view"], json!({
            "incident_reports": { "type": "boolean" }, "response_times": { "type": "boolean" },
            "clips": { "type": "boolean" }, "live_view": { "type": "boolean" }
        })),
        "NewSite": object(&["name"], json!({ "name": string(), "parent": string(), "schedule": { "type": "object" } })),
        "Grant": object(&["dealer"], json!({ "dealer": string() })),
        "NewToken": object(&["name", "permissions", "expires_in_days"], json!({
            "name": string(), "permissions": { "type": "array", "items": string() },
            "expires_in_days": { "type": "integer", "minimum": 1, "maximum": 365 }
        })),
        "Handle": object(&["outcome"], json!({ "outcome": { "type": "string", "enum": ["false_alarm", "intruder", "guard_dispatched", "police_called", "technical", "activated", "rejected"] }, "notes": string() })),
        "Windows": { "type": "array", "items": { "type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]$" } },
        "CopyDay": object(&["day"], json!({ "day": { "type": "string", "enum": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] } })),
        "DayException": { "oneOf": [
            { "type": "string", "enum": ["armed_all_day", "disarmed_all_day"] },
            object(&["windows"], json!({ "windows": { "type": "array", "items": string() } }))
        ] },
        "Contacts": { "type": "array", "minItems": 1, "maxItems": 20, "items": object(&["name", "phone"], json!({ "name": string(), "phone": string(), "email": string() })) },
        "Recipients": { "type": "array", "maxItems": 50, "items": object(&["email"], json!({ "email": string(), "instant": { "type": "boolean" }, "daily": { "type": "boolean" } })) },
        "AssignSite": object(&["site"], json!({ "site": string() })),
        "Relocate": object(&["to"], json!({ "to": { "type": "string", "enum": ["active", "relocating", "activation_requested"] }, "actor": string(), "position": object(&["latitude", "longitude"], json!({ "latitude": { "type": "number", "minimum": -90, "maximum": 90 }, "longitude": { "type": "number", "minimum": -180, "maximum": 180 } })) })),
        "SiteBody": object(&["name", "schedule"], json!({ "name": string(), "schedule": { "type": "object" }, "org": string(), "parent": string() })),
        "Schedule": object(&["time_zone", "week"], json!({ "time_zone": string(), "week": week, "exceptions": { "type": "object" } })),
        "Level": object(&["name", "arming", "sensors", "warnings", "centre_priority"], json!({ "name": string(), "arming": { "type": "string", "enum": ["by_schedule", "always_armed", "never_armed"] }, "sensors": { "type": "array", "items": { "type": "string", "enum": ["motion", "door", "video_analytics", "tamper", "power", "panic"] } }, "warnings": object(&["siren", "strobe", "voice"], json!({ "siren": { "type": "boolean" }, "strobe": { "type": "boolean" }, "voice": { "type": "boolean" } })), "centre_priority": { "type": "integer", "minimum": 1, "maximum": 9 } })),
        "SiteLevel": object(&["profile"], json!({ "profile": string() })),
        "Retention": object(&["days"], json!({ "days": { "type": "integer", "minimum": 1, "maximum": 365 } })),
        "ClipSettings": object(&["pre_roll_s", "post_roll_s", "max_clip_s"], json!({ "pre_roll_s": { "type": "integer", "minimum": 0, "maximum": 60 }, "post_roll_s": { "type": "integer", "minimum": 1, "maximum": 300 }, "max_clip_s": { "type": "integer", "minimum": 2, "maximum": 600 } })),
        "RelocationSupport": object(&["supported"], json!({ "supported": { "type": "boolean" } })),
        "Disarm": object(&["until"], json!({ "until": { "type": "string", "format": "date-time" }, "by": string() })),
        "Error": object(&["error"], json!({ "error": string() })),
    })
}

fn parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": string() }))
        .collect()
}

/// The document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for operation in OPERATIONS {
        let error = |what: &str| json!({ "description": what, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
        let mut responses = serde_json::Map::new();
        responses.insert(operation.ok.to_string(), json!({ "description": "done" }));
        responses.insert("404".into(), error("unknown, or not yours"));
        responses.insert("422".into(), error("invalid input, naming the field"));
        if operation.access == Caller {
            responses.insert("401".into(), error("not signed in (says why)"));
            responses.insert("403".into(), error("not allowed (says why)"));
        }
        let mut entry = json!({
            "summary": operation.summary,
            "operationId": format!("{}_{}", operation.method, operation.path.replace(['/', '{', '}', '-', '.'], "_").trim_matches('_')),
            "parameters": parameters(operation.path),
            "responses": responses,
        });
        if operation.access == Open {
            entry["security"] = json!([]);
        }
        if let Some(body) = operation.body {
            entry["requestBody"] = json!({
                "required": true,
                "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{body}") } } }
            });
        }
        paths
            .entry(operation.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|o| o.insert(operation.method.to_owned(), entry));
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Picket hub API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every call is made by someone: a session (cookie `picket_session`), an API token, or the operator's bootstrap token; what they may do is decided per call by the access model. Errors are `{\"error\": \"...\"}`."
        },
        "servers": [{ "url": "/api/v1" }],
        "security": [{ "session": [] }, { "bearer": [] }],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": "picket_session" },
                "bearer": { "type": "http", "scheme": "bearer" }
            }
        }
    })
}

/// `GET /api/v1/openapi.json`.
pub async fn serve() -> Json<Value> {
    Json(document())
}
