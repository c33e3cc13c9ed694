//! The primitives every part of the configuration is written in:
//! little-endian `u32`s and `u64`s, length-prefixed byte strings, optional
//! values, and lists that carry their byte length so that a reader can skip
//! them without decoding. [`Reader`] reads them, [`Writer`] (with the
//! `encode` feature) writes them; each part's module uses both side by side.

use core::fmt;

/// Why a configuration blob could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The blob ended inside a field.
    Truncated,
    /// A string was not UTF-8.
    Utf8,
    /// An enumeration held a value this layout does not define.
    BadTag(u32),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("configuration is truncated"),
            Error::Utf8 => f.write_str("configuration holds a string that is not UTF-8"),
            Error::BadTag(t) => write!(f, "configuration holds unknown tag {t}"),
        }
    }
}

/// A list of strings, decoded on iteration. Strings were checked by
/// [`crate::Config::parse`], so iteration cannot fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrList<'a> {
    len: u32,
    bytes: &'a [u8],
}

impl<'a> StrList<'a> {
    /// Number of strings.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The strings in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let mut r = Reader::new(self.bytes);
        (0..self.len).map(move |_| r.str().expect("validated by Config::parse"))
    }

    /// Whether `s` is one of the strings.
    pub fn contains(&self, s: &str) -> bool {
        self.iter().any(|x| x == s)
    }

    /// String number `index`, if there are that many.
    pub fn get(&self, index: usize) -> Option<&'a str> {
        self.iter().nth(index)
    }
}

/// A list of `(name, value)` string pairs, decoded on iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PairList<'a> {
    len: u32,
    bytes: &'a [u8],
}

impl<'a> PairList<'a> {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let mut r = Reader::new(self.bytes);
        (0..self.len).map(move |_| {
            let k = r.str().expect("validated by Config::parse");
            let v = r.str().expect("validated by Config::parse");
            (k, v)
        })
    }

    /// The value paired with `name`, if any.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
}

/// Reads the configuration front to back.
pub(crate) struct Reader<'a> {
    /// What is left to read.
    pub(crate) bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.bytes.len() < n {
            return Err(Error::Truncated);
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Error> {
        let low = self.u32()? as u64;
        let high = self.u32()? as u64;
        Ok(low | high << 32)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn str(&mut self) -> Result<&'a str, Error> {
        core::str::from_utf8(self.bytes()?).map_err(|_| Error::Utf8)
    }

    /// A length-prefixed byte string.
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    /// `0` for none, or `1` and what `read` reads ([`Writer::option`]).
    pub(crate) fn option<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<Option<T>, Error> {
        match self.u32()? {
            0 => Ok(None),
            1 => read(self).map(Some),
            t => Err(Error::BadTag(t)),
        }
    }

    /// `count, byte_len, bytes`; every string inside is checked now.
    fn list(&mut self, strs_per_item: u32) -> Result<(u32, &'a [u8]), Error> {
        let count = self.u32()?;
        let byte_len = self.u32()? as usize;
        let bytes = self.take(byte_len)?;
        let mut inner = Reader::new(bytes);
        for _ in 0..count.checked_mul(strs_per_item).ok_or(Error::Truncated)? {
            inner.str()?;
        }
        Ok((count, bytes))
    }

    pub(crate) fn str_list(&mut self) -> Result<StrList<'a>, Error> {
        let (len, bytes) = self.list(1)?;
        Ok(StrList { len, bytes })
    }

    pub(crate) fn pair_list(&mut self) -> Result<PairList<'a>, Error> {
        let (len, bytes) = self.list(2)?;
        Ok(PairList { len, bytes })
    }
}

#[cfg(feature = "encode")]
pub(crate) use writer::Writer;

#[cfg(feature = "encode")]
mod writer {
    use alloc::vec::Vec;

    /// Writes the configuration front to back, as [`super::Reader`] reads it.
    #[derive(Default)]
    pub(crate) struct Writer {
        pub(crate) bytes: Vec<u8>,
    }

    impl Writer {
        pub(crate) fn u32(&mut self, v: u32) {
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }

        pub(crate) fn u64(&mut self, v: u64) {
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }

        pub(crate) fn str(&mut self, s: &str) {
            self.blob(s.as_bytes());
        }

        /// A length-prefixed byte string.
        pub(crate) fn blob(&mut self, b: &[u8]) {
            self.u32(len32(b.len()));
            self.bytes.extend_from_slice(b);
        }

        /// `0` for `None`, or `1` and what `write` writes.
        pub(crate) fn option<T>(&mut self, value: Option<T>, write: impl FnOnce(&mut Self, T)) {
            match value {
                None => self.u32(0),
                Some(value) => {
                    self.u32(1);
                    write(self, value);
                }
            }
        }

        /// `count, byte_len`, then what `each` writes for every item.
        pub(crate) fn list<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Writer, &T)) {
            let mut inner = Writer::default();
            for item in items {
                each(&mut inner, item);
            }
            self.u32(len32(items.len()));
            self.u32(len32(inner.bytes.len()));
            self.bytes.extend_from_slice(&inner.bytes);
        }

        pub(crate) fn str_list(&mut self, items: &[&str]) {
            self.list(items, |w, s| w.str(s));
        }

        pub(crate) fn pair_list(&mut self, items: &[(&str, &str)]) {
            self.list(items, |w, (k, v)| {
                w.str(k);
                w.str(v);
            });
        }
    }

    /// `n` as a `u32`: a configuration for wasm32 is under 4 GiB.
    pub(crate) fn len32(n: usize) -> u32 {
        u32::try_from(n).expect("wasm32 configuration larger than 4 GiB")
    }
}

#[cfg(feature = "encode")]
pub(crate) use writer::len32;
