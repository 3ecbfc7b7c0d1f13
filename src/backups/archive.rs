//! Zipping a directory (a bare mirror) into an archive that appears atomically: written
//! under a hidden temporary name, synced, then renamed. Blocking I/O: call it from the
//! blocking pool.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveInfo {
    pub size_bytes: u64,
    /// Lowercase hex SHA-256 of the archive file.
    pub sha256: String,
}

/// Zips everything under `source` (entries named relative to it, e.g. `HEAD`,
/// `refs/heads/main`) into `dest`. Symbolic links are skipped. If `cancelled` becomes
/// true the work stops and nothing is left behind.
pub fn zip_directory(
    source: &Path,
    dest: &Path,
    cancelled: &Arc<AtomicBool>,
) -> io::Result<ArchiveInfo> {
    let temp = temporary_name(dest);
    let result = write_zip(source, &temp, cancelled).and_then(|()| {
        let info = hash_file(&temp)?;
        fs::rename(&temp, dest)?;
        Ok(info)
    });
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// `.{name}.partial` beside `dest`.
fn temporary_name(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map_or_else(|| "archive".into(), |n| n.to_string_lossy().into_owned());
    dest.with_file_name(format!(".{name}.partial"))
}

fn write_zip(source: &Path, temp: &Path, cancelled: &Arc<AtomicBool>) -> io::Result<()> {
    let file = File::create(temp)?;
    let mut zip = zip::ZipWriter::new(BufWriter::new(file));
    let mut pending = vec![source.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let mut entries = fs::read_dir(&dir)?.collect::<io::Result<Vec<_>>>()?;
        entries.sort_by_key(fs::DirEntry::file_name);
        for entry in entries {
            if cancelled.load(Ordering::Relaxed) {
                return Err(io::Error::other("cancelled by shutdown"));
            }
            let path = entry.path();
            let kind = entry.file_type()?;
            let name = entry_name(source, &path)?;
            if kind.is_dir() {
                zip.add_directory(format!("{name}/"), options(&name, 0))
                    .map_err(io::Error::other)?;
                pending.push(path);
            } else if kind.is_file() {
                let size = entry.metadata()?.len();
                zip.start_file(name.as_str(), options(&name, size))
                    .map_err(io::Error::other)?;
                io::copy(&mut File::open(&path)?, &mut zip)?;
            }
        }
    }
    let mut writer = zip.finish().map_err(io::Error::other)?;
    writer.flush()?;
    writer.into_inner().map_err(io::Error::other)?.sync_all()
}

/// The entry name of `path`: relative to `root`, `/`-separated.
fn entry_name(root: &Path, path: &Path) -> io::Result<String> {
    let relative = path
        .strip_prefix(root)
        .map_err(|_| io::Error::other("entry outside the archived directory"))?;
    Ok(relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/"))
}

/// Git objects are already zlib-compressed, so they are stored as they are; the rest
/// (refs, config, packed-refs) is deflated.
fn options(name: &str, size: u64) -> SimpleFileOptions {
    let method = if name.starts_with("objects/") {
        CompressionMethod::Stored
    } else {
        CompressionMethod::Deflated
    };
    SimpleFileOptions::default()
        .compression_method(method)
        .large_file(size >= u64::from(u32::MAX))
}

/// Size and SHA-256 of a file.
pub fn hash_file(path: &Path) -> io::Result<ArchiveInfo> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok(ArchiveInfo {
        size_bytes: size,
        sha256: hex::encode(hasher.finalize()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_a_tree_atomically() {
        let root = std::env::temp_dir().join(format!("gitpulse-zip-{}", uuid::Uuid::new_v4()));
        let source = root.join("repo.git");
        fs::create_dir_all(source.join("refs/heads")).expect("dirs");
        fs::create_dir_all(source.join("refs/tags")).expect("dirs");
        fs::write(source.join("HEAD"), "ref: refs/heads/main\n").expect("HEAD");
        fs::write(source.join("refs/heads/main"), "0123\n").expect("ref");
        let dest = root.join("repo abc.zip");
        let cancelled = Arc::new(AtomicBool::new(false));

        let info = zip_directory(&source, &dest, &cancelled).expect("zipped");
        assert_eq!(info, hash_file(&dest).expect("hash"));
        assert!(!temporary_name(&dest).exists());
        let mut archive = zip::ZipArchive::new(File::open(&dest).expect("open")).expect("zip");
        let names: Vec<String> = archive.file_names().map(str::to_string).collect();
        for expected in ["HEAD", "refs/", "refs/heads/main", "refs/tags/"] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
        let mut head = String::new();
        archive
            .by_name("HEAD")
            .expect("HEAD")
            .read_to_string(&mut head)
            .expect("read");
        assert_eq!(head, "ref: refs/heads/main\n");

        cancelled.store(true, Ordering::Relaxed);
        let again = root.join("repo def.zip");
        assert!(zip_directory(&source, &again, &cancelled).is_err());
        assert!(!again.exists() && !temporary_name(&again).exists());
        let _ = fs::remove_dir_all(root);
    }
}
