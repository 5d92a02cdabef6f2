//! Reading a wheel's `*.dist-info/METADATA` through HTTP range requests, for indexes that serve
//! no PEP 658 metadata file: the zip's end (its central directory) first, then the one member,
//! never the whole wheel (a torch wheel is most of a gigabyte).
//!
//! Zip (and Zip64) structures are read with bounds checks at every step: a malformed or hostile
//! archive is an error, never a panic or a huge allocation.

use std::io::Read;

use super::http::Fetch;

/// How much of a wheel's end is asked for first: the central directory of most wheels fits.
pub const TAIL_BYTES: u64 = 64 << 10;
/// The biggest central directory read (torch's has about 12,000 entries: about 1.5 MB).
pub const MAX_DIRECTORY: u64 = 8 << 20;
/// The biggest METADATA read, compressed or not (they are kilobytes; a README can be embedded).
pub const MAX_METADATA: u64 = 4 << 20;

/// A malformed archive, or one that needs more than the caps allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("wheel archive: {0}")]
pub struct ZipError(pub String);

fn err<T>(message: &str) -> Result<T, ZipError> {
    Err(ZipError(message.to_string()))
}

/// Little-endian reads that fail instead of panicking past the end.
fn u16_at(bytes: &[u8], at: usize) -> Result<u16, ZipError> {
    match bytes.get(at..at + 2) {
        Some(b) => Ok(u16::from_le_bytes([b[0], b[1]])),
        None => err("truncated"),
    }
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32, ZipError> {
    match bytes.get(at..at + 4) {
        Some(b) => Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        None => err("truncated"),
    }
}

fn u64_at(bytes: &[u8], at: usize) -> Result<u64, ZipError> {
    match bytes.get(at..at + 8) {
        Some(b) => {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            Ok(u64::from_le_bytes(a))
        }
        None => err("truncated"),
    }
}

/// Where the central directory is: `(offset, size)` in the archive.
pub fn directory(tail: &[u8], tail_start: u64) -> Result<(u64, u64), ZipError> {
    // The end record is 22 bytes plus a comment of up to 65535; search backwards.
    let min = tail.len().saturating_sub(22 + 65_535);
    let Some(eocd) = (min..=tail.len().saturating_sub(22))
        .rev()
        .find(|&i| tail.get(i..i + 4) == Some(&[0x50, 0x4b, 0x05, 0x06]))
    else {
        return err("no end-of-central-directory record");
    };
    let size = u32_at(tail, eocd + 12)?;
    let offset = u32_at(tail, eocd + 16)?;
    if size != u32::MAX && offset != u32::MAX {
        return Ok((u64::from(offset), u64::from(size)));
    }
    // Zip64: a locator just before the end record points at the Zip64 end record.
    let locator = eocd
        .checked_sub(20)
        .filter(|&l| tail.get(l..l + 4) == Some(&[0x50, 0x4b, 0x06, 0x07]));
    let Some(locator) = locator else {
        return err("Zip64 archive without a locator");
    };
    let record = u64_at(tail, locator + 8)?;
    let Some(at) = record
        .checked_sub(tail_start)
        .and_then(|a| usize::try_from(a).ok())
    else {
        return err("Zip64 end record outside the bytes read");
    };
    if tail.get(at..at + 4) != Some(&[0x50, 0x4b, 0x06, 0x06]) {
        return err("bad Zip64 end record");
    }
    Ok((u64_at(tail, at + 48)?, u64_at(tail, at + 40)?))
}

/// The METADATA member found in the central directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    /// Where its local header starts in the archive.
    pub local_offset: u64,
    /// Its compressed size.
    pub compressed: u64,
    /// 0 stored, 8 deflated.
    pub method: u16,
    /// The name and extra field lengths in the central directory; the local header repeats the
    /// name and usually the extra field.
    pub header_extra: u64,
}

/// Finds `NAME-VERSION.dist-info/METADATA` (at the top level) in a central directory.
pub fn find_metadata(directory: &[u8]) -> Result<Member, ZipError> {
    let mut at = 0usize;
    while at + 46 <= directory.len() {
        if u32_at(directory, at)? != 0x0201_4b50 {
            return err("bad central directory entry");
        }
        let method = u16_at(directory, at + 10)?;
        let mut compressed = u64::from(u32_at(directory, at + 20)?);
        let uncompressed = u32_at(directory, at + 24)?;
        let name_len = usize::from(u16_at(directory, at + 28)?);
        let extra_len = usize::from(u16_at(directory, at + 30)?);
        let comment_len = usize::from(u16_at(directory, at + 32)?);
        let mut local_offset = u64::from(u32_at(directory, at + 42)?);
        let name = directory
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(|| ZipError("truncated".into()))?;
        let extra = directory
            .get(at + 46 + name_len..at + 46 + name_len + extra_len)
            .ok_or_else(|| ZipError("truncated".into()))?;
        let is_metadata = name.ends_with(b".dist-info/METADATA")
            && name.iter().filter(|&&b| b == b'/').count() == 1;
        if is_metadata {
            // Zip64 extra field (id 1): the maxed-out fields, in this order.
            let mut e = 0;
            while e + 4 <= extra.len() {
                let id = u16_at(extra, e)?;
                let len = usize::from(u16_at(extra, e + 2)?);
                if id == 1 {
                    let mut f = e + 4;
                    if uncompressed == u32::MAX {
                        f += 8;
                    }
                    if compressed == u64::from(u32::MAX) {
                        compressed = u64_at(extra, f)?;
                        f += 8;
                    }
                    if local_offset == u64::from(u32::MAX) {
                        local_offset = u64_at(extra, f)?;
                    }
                }
                e += 4 + len;
            }
            return Ok(Member {
                local_offset,
                compressed,
                method,
                header_extra: (name_len + extra_len) as u64,
            });
        }
        at += 46 + name_len + extra_len + comment_len;
    }
    err("no .dist-info/METADATA in the wheel")
}

/// How many bytes from the member's local header to ask for: the header, its name and extra
/// field (with room for a local extra field longer than the central one), and the data.
pub fn member_span(member: &Member) -> u64 {
    30 + member.header_extra + 4096 + member.compressed
}

/// Reads a wheel's METADATA at `url` with two or three range requests (the end of the archive,
/// the central directory if the end did not hold it, the member if the end did not hold it).
pub fn fetch_metadata(fetch: &mut dyn Fetch, url: &str) -> Result<String, String> {
    let tail = fetch
        .get_range(url, &format!("bytes=-{TAIL_BYTES}"), TAIL_BYTES)
        .map_err(|e| e.to_string())?;
    let tail_start = match (tail.status, tail.start) {
        (206, Some(start)) => start,
        (200 | 206, _) => return Err("the file server does not serve byte ranges".to_string()),
        (status, _) => return Err(format!("HTTP {status}")),
    };
    let (cd_offset, cd_size) = directory(&tail.body, tail_start).map_err(|e| e.to_string())?;
    if cd_size > MAX_DIRECTORY {
        return Err("the wheel's central directory is over the size limit".to_string());
    }
    let within = |start: u64, len: u64| -> Option<&[u8]> {
        let from = usize::try_from(start.checked_sub(tail_start)?).ok()?;
        tail.body
            .get(from..from.checked_add(usize::try_from(len).ok()?)?)
    };
    let fetched;
    let cd = match within(cd_offset, cd_size) {
        Some(cd) => cd,
        None => {
            let end = cd_offset + cd_size.max(1) - 1;
            let response = fetch
                .get_range(url, &format!("bytes={cd_offset}-{end}"), cd_size)
                .map_err(|e| e.to_string())?;
            if response.status != 206 {
                return Err(format!(
                    "HTTP {} for the central directory",
                    response.status
                ));
            }
            fetched = response.body;
            &fetched
        }
    };
    let member = find_metadata(cd).map_err(|e| e.to_string())?;
    if member.compressed > MAX_METADATA {
        return Err("METADATA is over the size limit".to_string());
    }
    // The member ends before the central directory; ask for no more than that.
    let span = member_span(&member).min(cd_offset.saturating_sub(member.local_offset));
    if let Some(bytes) = within(member.local_offset, span) {
        return read_member(bytes, &member).map_err(|e| e.to_string());
    }
    let tail_from = usize::try_from(member.local_offset.saturating_sub(tail_start)).unwrap_or(0);
    if member.local_offset >= tail_start && tail_from < tail.body.len() {
        return read_member(&tail.body[tail_from..], &member).map_err(|e| e.to_string());
    }
    let end = member.local_offset + span.max(1) - 1;
    let response = fetch
        .get_range(url, &format!("bytes={}-{end}", member.local_offset), span)
        .map_err(|e| e.to_string())?;
    if response.status != 206 {
        return Err(format!("HTTP {} for METADATA", response.status));
    }
    read_member(&response.body, &member).map_err(|e| e.to_string())
}

/// The METADATA text from bytes that start at the member's local header.
pub fn read_member(bytes: &[u8], member: &Member) -> Result<String, ZipError> {
    if member.compressed > MAX_METADATA {
        return err("METADATA is over the size limit");
    }
    if u32_at(bytes, 0)? != 0x0403_4b50 {
        return err("bad local file header");
    }
    let start = 30 + usize::from(u16_at(bytes, 26)?) + usize::from(u16_at(bytes, 28)?);
    let data = bytes
        .get(start..start + member.compressed as usize)
        .ok_or_else(|| ZipError("truncated member".into()))?;
    let mut out = Vec::new();
    match member.method {
        0 => out.extend_from_slice(data),
        8 => {
            flate2::read::DeflateDecoder::new(data)
                .take(MAX_METADATA + 1)
                .read_to_end(&mut out)
                .map_err(|e| ZipError(format!("cannot inflate METADATA: {e}")))?;
            if out.len() as u64 > MAX_METADATA {
                return err("METADATA is over the size limit");
            }
        }
        other => return Err(ZipError(format!("METADATA compressed with method {other}"))),
    }
    String::from_utf8(out).map_err(|_| ZipError("METADATA is not UTF-8".into()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// A small zip with `demo-1.0.dist-info/METADATA` (deflated) and one other member.
    pub(crate) fn sample_wheel(metadata: &str) -> Vec<u8> {
        let mut zip = Vec::new();
        let mut directory = Vec::new();
        let members: [(&str, Vec<u8>, u16, usize); 2] = [
            ("demo/__init__.py", b"x = 1\n".to_vec(), 0, b"x = 1\n".len()),
            (
                "demo-1.0.dist-info/METADATA",
                {
                    let mut e = flate2::write::DeflateEncoder::new(
                        Vec::new(),
                        flate2::Compression::default(),
                    );
                    e.write_all(metadata.as_bytes()).unwrap();
                    e.finish().unwrap()
                },
                8,
                metadata.len(),
            ),
        ];
        for (name, data, method, size) in members {
            let offset = zip.len() as u32;
            zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            zip.extend_from_slice(&[20, 0, 0, 0]);
            zip.extend_from_slice(&method.to_le_bytes());
            zip.extend_from_slice(&[0; 8]); // time, date, crc
            zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
            zip.extend_from_slice(&(size as u32).to_le_bytes());
            zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
            zip.extend_from_slice(&0u16.to_le_bytes());
            zip.extend_from_slice(name.as_bytes());
            zip.extend_from_slice(&data);
            directory.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            directory.extend_from_slice(&[20, 0, 20, 0, 0, 0]);
            directory.extend_from_slice(&method.to_le_bytes());
            directory.extend_from_slice(&[0; 8]);
            directory.extend_from_slice(&(data.len() as u32).to_le_bytes());
            directory.extend_from_slice(&(size as u32).to_le_bytes());
            directory.extend_from_slice(&(name.len() as u16).to_le_bytes());
            directory.extend_from_slice(&[0; 12]); // extra, comment, disk, attributes
            directory.extend_from_slice(&offset.to_le_bytes());
            directory.extend_from_slice(name.as_bytes());
        }
        let cd_offset = zip.len() as u32;
        zip.extend_from_slice(&directory);
        zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        zip.extend_from_slice(&[0; 4]);
        zip.extend_from_slice(&2u16.to_le_bytes());
        zip.extend_from_slice(&2u16.to_le_bytes());
        zip.extend_from_slice(&(directory.len() as u32).to_le_bytes());
        zip.extend_from_slice(&cd_offset.to_le_bytes());
        zip.extend_from_slice(&0u16.to_le_bytes());
        zip
    }

    #[test]
    fn reads_metadata_out_of_a_wheel() {
        let wheel = sample_wheel("Name: demo\nRequires-Dist: numpy\n");
        let (offset, size) = directory(&wheel, 0).unwrap();
        let cd = &wheel[offset as usize..(offset + size) as usize];
        let member = find_metadata(cd).unwrap();
        let text = read_member(&wheel[member.local_offset as usize..], &member).unwrap();
        assert_eq!(text, "Name: demo\nRequires-Dist: numpy\n");
    }

    #[test]
    fn broken_archives_are_errors() {
        let wheel = sample_wheel("Name: demo\n");
        assert!(directory(b"not a zip", 0).is_err());
        assert!(directory(&[], 0).is_err());
        let (offset, size) = directory(&wheel, 0).unwrap();
        let cd = &wheel[offset as usize..(offset + size) as usize];
        for cut in 0..cd.len() {
            let _ = find_metadata(&cd[..cut]);
        }
        let member = find_metadata(cd).unwrap();
        let local = &wheel[member.local_offset as usize..];
        for cut in 0..local.len() {
            let _ = read_member(&local[..cut], &member);
        }
        let mut garbled = local.to_vec();
        garbled[40] ^= 0xff;
        let _ = read_member(&garbled, &member);
    }
}
