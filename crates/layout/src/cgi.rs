//! The pure part of serving a command per request (`--serve-http`,
//! `virtual-adapter/src/serve.rs`): its arguments from the request target,
//! and its response from what it wrote. Here so that the host tests it.

use alloc::string::String;
use alloc::vec::Vec;

/// The arguments for request target `target` (`/probe?cat+/data/a.txt`),
/// as RFC 3875 (4.4) gives a script its command line: the path, then,
/// only if the query is a search string (it holds no unencoded `=`), each
/// `+`-separated word of it, percent-decoded. Any other query gives no
/// arguments but the path (the script reads it from `QUERY_STRING`), and
/// so does a search string with an empty word, or with a word that decodes
/// to one starting with `-`, which an interpreter would take for a flag.
pub fn arguments(target: &str) -> Vec<String> {
    let (path, query) = split_target(target);
    let mut args = Vec::from([percent_decoded(path)]);
    args.extend(search_words(query).unwrap_or_default());
    args
}

/// The words of `query` if it is a search string, decoded; `None` if it is
/// not one, or holds a word that may not be an argument.
fn search_words(query: &str) -> Option<Vec<String>> {
    if query.is_empty() || query.contains('=') {
        return None;
    }
    query
        .split('+')
        .map(|word| {
            let word = percent_decoded(word);
            (!word.is_empty() && !word.starts_with('-')).then_some(word)
        })
        .collect()
}

/// The CGI variable for request header `name` (`x-test` is `HTTP_X_TEST`),
/// or `None` for a header that has none: a name holding `_`, which would
/// pass for the `-` of another header's name (`X_Remote_User` for
/// `X-Remote-User`), as Apache and nginx drop it; and `Proxy`, whose
/// `HTTP_PROXY` programs take for their outgoing proxy ("httpoxy").
pub fn header_variable(name: &str) -> Option<String> {
    if name.contains('_') || name.eq_ignore_ascii_case("proxy") {
        return None;
    }
    let name: String = name
        .chars()
        .map(|c| match c {
            '-' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    Some(alloc::format!("HTTP_{name}"))
}

/// `(path, query)` of a request target; the query is empty without `?`.
pub fn split_target(target: &str) -> (&str, &str) {
    target.split_once('?').unwrap_or((target, ""))
}

/// `text` with each `%XX` decoded (a `%` not followed by two hex digits is
/// kept); bytes that are not UTF-8 become U+FFFD.
pub fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a command wrote, as a response: `(status, headers, body)`.
pub type Answer<'a> = (u16, Vec<(String, Vec<u8>)>, &'a [u8]);

/// `content-type: text/plain`, the type of an answer without headers.
fn plain() -> Vec<(String, Vec<u8>)> {
    Vec::from([(String::from("content-type"), b"text/plain".to_vec())])
}

/// A command's output as a response: an optional CGI header block
/// (`Status: 404 Not Found`, `Content-Type: ...`, other headers, then an
/// empty line; lines end in LF or CRLF), then the body. As RFC 3875 has
/// it, a block holds at least one of `Status`, `Content-Type` and
/// `Location`; output that does not start with such a block is all body,
/// answered `200` as `text/plain` (so `Error: ...` on the first line is
/// text, not a header). A `Location` without `Status` is a redirect
/// (`302`); a `Status` that is not a final code, from 200 to 599, fails
/// the run (`500`, no body): a `1xx` is interim, never the answer.
/// Hop-by-hop headers, which only the host may set, are left out.
pub fn parse_cgi(output: &[u8]) -> Answer<'_> {
    let all_body = || (200, plain(), output);
    let mut status = None;
    let mut bad_status = false;
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    let mut rest = output;
    loop {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            // No empty line ends the block: it was no header block.
            return all_body();
        };
        let line = &rest[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        rest = &rest[end + 1..];
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return all_body();
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        let token = !name.is_empty()
            && name
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b));
        if !token {
            return all_body();
        }
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        if name == "status" {
            let code = value
                .split(|b| b.is_ascii_whitespace())
                .next()
                .and_then(|c| core::str::from_utf8(c).ok()?.parse::<u16>().ok());
            match code {
                Some(code) if (200..=599).contains(&code) => status = Some(code),
                _ => bad_status = true,
            }
        } else if !HOP_BY_HOP.contains(&name.as_str()) {
            headers.push((name, value.to_vec()));
        }
    }
    let has = |wanted: &str| headers.iter().any(|(n, _)| n == wanted);
    let (typed, redirect) = (has("content-type"), has("location"));
    if !(status.is_some() || bad_status || typed || redirect) {
        return all_body();
    }
    if bad_status {
        return (500, plain(), &[]);
    }
    if !typed {
        headers.push((String::from("content-type"), b"text/plain".to_vec()));
    }
    let status = status.unwrap_or(if redirect { 302 } else { 200 });
    (status, headers, rest)
}

/// Headers of one connection, which the host sets and refuses from a
/// response.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
    "http2-settings",
];

fn trim(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn a_search_string_gives_arguments() {
        assert_eq!(
            arguments("/probe?cat+/data/a.txt"),
            ["/probe", "cat", "/data/a.txt"]
        );
        assert_eq!(
            arguments("/p?a%20b+c%2Fd+e%2Bf+x&y+%zz+%4"),
            ["/p", "a b", "c/d", "e+f", "x&y", "%zz", "%4"]
        );
        assert_eq!(arguments("/only"), ["/only"]);
        assert_eq!(arguments("/only?"), ["/only"]);
        assert_eq!(arguments("/%E2%9C%93?%FF"), ["/\u{2713}", "\u{fffd}"]);
        // An encoded `=` is a search word's.
        assert_eq!(arguments("/p?a%3Db"), ["/p", "a=b"]);
    }

    #[test]
    fn any_other_query_gives_no_arguments() {
        for target in [
            "/p?x=1",
            "/p?args&x=1",
            "/p?a+b=c",
            "/p?=",
            "/p?a++b",
            "/p?a+",
            "/p?+a",
            "/p?-e+code",
            "/p?args+--help",
            "/p?%2Dc+code",
        ] {
            assert_eq!(arguments(target), ["/p"], "{target}");
        }
        // A `-` inside a word is no flag.
        assert_eq!(arguments("/p?a-b+c-"), ["/p", "a-b", "c-"]);
    }

    #[test]
    fn header_names_with_underscores_have_no_variable() {
        assert_eq!(header_variable("x-test").as_deref(), Some("HTTP_X_TEST"));
        assert_eq!(
            header_variable("X-Remote-User").as_deref(),
            Some("HTTP_X_REMOTE_USER")
        );
        assert_eq!(header_variable("X_Remote_User"), None);
        assert_eq!(header_variable("x-remote_user"), None);
        assert_eq!(header_variable("Proxy"), None);
        assert_eq!(
            header_variable("proxy-authorization").as_deref(),
            Some("HTTP_PROXY_AUTHORIZATION")
        );
    }

    fn header(answer: &Answer<'_>, name: &str) -> Option<String> {
        answer
            .1
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
    }

    #[test]
    fn output_without_a_header_block_is_all_body() {
        for text in [
            "plain text\n",
            "no newline",
            "a: b\nstill no blank line",
            "\nbody",
            "not a header\n\nx",
        ] {
            let answer = parse_cgi(text.as_bytes());
            assert_eq!(answer.0, 200, "{text:?}");
            assert_eq!(answer.2, text.as_bytes(), "{text:?}");
            assert_eq!(
                header(&answer, "content-type").as_deref(),
                Some("text/plain")
            );
        }
    }

    #[test]
    fn a_header_block_sets_status_and_headers() {
        let answer = parse_cgi(
            b"Status: 404 Not Found\r\nContent-Type: text/html\r\nX-A:  1 \r\n\r\n<p>gone</p>",
        );
        assert_eq!(answer.0, 404);
        assert_eq!(
            header(&answer, "content-type").as_deref(),
            Some("text/html")
        );
        assert_eq!(header(&answer, "x-a").as_deref(), Some("1"));
        assert_eq!(header(&answer, "status"), None);
        assert_eq!(answer.2, b"<p>gone</p>");

        // Without Status, Content-Type or Location, it is no CGI block.
        let answer = parse_cgi(b"X-Only: yes\n\nbody");
        assert_eq!((answer.0, answer.2), (200, &b"X-Only: yes\n\nbody"[..]));

        let answer = parse_cgi(b"Content-Type: text/csv\nConnection: close\n\na,b");
        assert_eq!((answer.0, answer.2), (200, &b"a,b"[..]));
        assert_eq!(header(&answer, "content-type").as_deref(), Some("text/csv"));
        assert_eq!(header(&answer, "connection"), None);

        let answer = parse_cgi(b"Status: 204\tNo Content\n\n");
        assert_eq!(answer.0, 204);
        assert_eq!(
            header(&answer, "content-type").as_deref(),
            Some("text/plain")
        );

        let answer = parse_cgi(b"Location: /elsewhere\n\n");
        assert_eq!(answer.0, 302);
        assert_eq!(answer.2, b"");
    }

    #[test]
    fn a_bad_status_is_a_failed_run() {
        for text in [
            "Status: 99\n\n",
            "Status: teapot\n\nx",
            "Status: 600\n\n",
            "Status: 100 Continue\n\n",
            "Status: 103 Early Hints\nContent-Type: text/html\n\n<p>",
            "Status: 199\n\n",
        ] {
            let answer = parse_cgi(text.as_bytes());
            assert_eq!((answer.0, answer.2), (500, &b""[..]), "{text:?}");
        }
        let _ = vec![0u8];
    }
}
