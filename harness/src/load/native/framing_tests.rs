use super::*;

fn head(text: &str) -> Head {
    match parse_head(text.as_bytes(), false, None).unwrap() {
        Parsed::Final(h) => h,
        other => panic!("{other:?}"),
    }
}

/// Decodes `input` fed `piece` bytes at a time; the body and what is left.
fn decode(framing: Framing, input: &[u8], piece: usize) -> Result<(Vec<u8>, bool), String> {
    let mut d = BodyDecoder::new(framing);
    let mut body = Vec::new();
    let (mut at, mut avail) = (0, 0);
    while !d.is_done() {
        if avail == input.len() && at == avail {
            return Ok((body, false));
        }
        let step = d.step(&input[at..avail])?;
        body.extend_from_slice(&input[at..at + step.data]);
        at += step.used;
        if step.used == 0 {
            if avail == input.len() {
                return Ok((body, false));
            }
            avail = (avail + piece).min(input.len());
        }
    }
    Ok((body, at == input.len()))
}

#[test]
fn heads_say_their_framing_and_whether_the_connection_stays() {
    let h = head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    assert_eq!(
        (h.status, h.framing, h.keep_alive),
        (200, Framing::Length(5), true)
    );
    let h =
        head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 5\r\n\r\n");
    assert_eq!(h.framing, Framing::Chunked);
    let h = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
    assert_eq!((h.framing, h.keep_alive), (Framing::Close, false));
    let h = head("HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!((h.framing, h.keep_alive), (Framing::Close, false));
    let h = head("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n");
    assert_eq!((h.framing, h.keep_alive), (Framing::Empty, true));
    let h = head("HTTP/1.1 304 Not Modified\r\n\r\n");
    assert_eq!(h.framing, Framing::Empty);
    let h = head("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, close\r\nContent-Length: 0\r\n\r\n");
    assert!(!h.keep_alive);
    let h = head("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert!(!h.keep_alive);
    let h = head("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
    assert!(h.keep_alive);
    let text = "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n";
    match parse_head(text.as_bytes(), true, None).unwrap() {
        Parsed::Final(h) => assert_eq!((h.framing, h.len), (Framing::Empty, text.len())),
        other => panic!("{other:?}"),
    }
}

#[test]
fn interim_partial_and_malformed_heads() {
    let interim = "HTTP/1.1 100 Continue\r\n\r\n";
    assert_eq!(
        parse_head(interim.as_bytes(), false, None).unwrap(),
        Parsed::Interim(interim.len())
    );
    assert_eq!(
        parse_head(b"HTTP/1.1 200 OK\r\nContent-Le", false, None).unwrap(),
        Parsed::Partial
    );
    for bad in [
        "SURELY NOT HTTP\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    ] {
        assert!(parse_head(bad.as_bytes(), false, None).is_err(), "{bad:?}");
    }
    let mut map = HeaderMap::new();
    parse_head(
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 0\r\n\r\n",
        false,
        Some(&mut map),
    )
    .unwrap();
    assert_eq!(map.get_all("x-a").iter().count(), 2);
}

#[test]
fn bodies_decode_whatever_the_pieces_they_arrive_in() {
    let chunked = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n";
    for piece in [1, 2, 3, 7, 64] {
        assert_eq!(
            decode(Framing::Chunked, chunked, piece).unwrap(),
            (b"hello world".to_vec(), true),
            "piece {piece}"
        );
        assert_eq!(
            decode(Framing::Length(5), b"hello", piece).unwrap(),
            (b"hello".to_vec(), true)
        );
        assert_eq!(
            decode(Framing::Close, b"to the end", piece).unwrap(),
            (b"to the end".to_vec(), false)
        );
    }
    assert_eq!(decode(Framing::Empty, b"", 1).unwrap(), (vec![], true));
    // Cut short: not done.
    let (body, done) = decode(Framing::Chunked, b"5\r\nhel", 2).unwrap();
    assert_eq!((body.as_slice(), done), (&b"hel"[..], false));
    assert!(decode(Framing::Chunked, b"zz\r\n", 4).is_err());
    assert!(decode(Framing::Chunked, b"2\r\nokXX0\r\n\r\n", 16).is_err());
    let long = vec![b'1'; MAX_LINE + 1];
    assert!(decode(Framing::Chunked, &long, MAX_LINE + 1).is_err());
}
