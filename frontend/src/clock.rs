//! Times as a person reads them: in their own time zone and words ("6 Dec 2026, 15:04"), from
//! the two forms the API writes, ISO 8601 text and NumericDates (seconds since 1970).

/// `iso` in the reader's words; `iso` itself when the browser cannot read it.
pub fn from_iso(iso: &str) -> String {
    local(&js_sys::Date::new(&iso.into())).unwrap_or_else(|| iso.to_owned())
}

/// A NumericDate (a token's `exp`, say) in the reader's words.
pub fn from_numeric_date(seconds: i64) -> String {
    let date = js_sys::Date::new(&((seconds as f64) * 1000.0).into());
    local(&date).unwrap_or_else(|| format!("{seconds} (seconds since 1970)"))
}

fn local(date: &js_sys::Date) -> Option<String> {
    if date.get_time().is_nan() {
        return None;
    }
    let options = js_sys::Object::new();
    for (key, value) in [("dateStyle", "medium"), ("timeStyle", "short")] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    Some(date.to_locale_string("default", &options).into())
}
