//! The contract every [`ClipStore`] keeps, written once and run against
//! each backend with [`contract_tests!`]: a backend's test module calls
//! it with a block that makes a fresh, empty store (and whatever must
//! live as long, such as its temporary directory).

use axum::body::Bytes;
use tokio::io::AsyncReadExt;
use uuid::Uuid;

use super::{ClipStore, ClipStoreError};
use crate::clips::upload::{ClipKind, sha256};

/// One `#[tokio::test]` per contract check, each on a fresh store made by
/// `$make`, a block returning `(keep_alive, store)`.
macro_rules! contract_tests {
    ($make:block) => {
        $crate::clips::storage::contract::contract_tests!(@each $make;
            an_upload_starts_at_zero_and_grows_by_each_append,
            an_upload_resumes_at_the_offset_the_store_reports,
            a_chunk_at_a_wrong_offset_is_refused_and_nothing_is_lost,
            a_wrong_hash_is_refused_and_the_upload_discarded,
            a_finished_object_reads_back_whole_and_by_range,
            an_object_is_named_by_its_id_and_kind,
            a_removed_object_is_gone_and_removing_twice_is_fine,
            a_discarded_upload_is_gone_and_discarding_twice_is_fine,
            what_is_missing_is_not_found,
            two_uploads_never_mix,
        );
    };
    (@each $make:block; $($check:ident,)+) => {
        $(
            #[tokio::test]
            async fn $check() {
                let (_keep, store) = $make;
                $crate::clips::storage::contract::$check(&store).await;
            }
        )+
    };
}

pub(crate) use contract_tests;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n)
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8 ^ seed).collect()
}

async fn append(store: &dyn ClipStore, id: Uuid, at: u64, bytes: &[u8]) -> u64 {
    store
        .append(id, at, Bytes::copy_from_slice(bytes))
        .await
        .unwrap()
}

async fn read(
    store: &dyn ClipStore,
    id: Uuid,
    kind: ClipKind,
    start: u64,
    len: u64,
) -> Result<Vec<u8>, ClipStoreError> {
    let mut reader = store.read_range(id, kind, start, len).await?;
    let mut out = Vec::new();
    reader
        .read_to_end(&mut out)
        .await
        .map_err(|source| ClipStoreError::Io {
            path: format!("reading {id}"),
            source,
        })?;
    Ok(out)
}

async fn upload(store: &dyn ClipStore, id: Uuid, kind: ClipKind, bytes: &[u8]) {
    append(store, id, 0, bytes).await;
    store.finish(id, kind, sha256(bytes)).await.unwrap();
}

pub(crate) async fn an_upload_starts_at_zero_and_grows_by_each_append(store: &dyn ClipStore) {
    let bytes = data(1000, 0);
    assert_eq!(store.received(id(1)).await.unwrap(), 0, "unknown: 0");
    assert_eq!(append(store, id(1), 0, &bytes[..300]).await, 300);
    assert_eq!(store.received(id(1)).await.unwrap(), 300);
    assert_eq!(append(store, id(1), 300, &bytes[300..301]).await, 301);
    assert_eq!(store.received(id(1)).await.unwrap(), 301);
}

pub(crate) async fn an_upload_resumes_at_the_offset_the_store_reports(store: &dyn ClipStore) {
    let bytes = data(10_000, 1);
    let mut sent = 0;
    for end in [1, 4096, 4097, 9_999, 10_000] {
        let at = store.received(id(2)).await.unwrap();
        assert_eq!(at, sent);
        sent = append(store, id(2), at, &bytes[at as usize..end]).await;
        assert_eq!(sent, end as u64);
    }
    store
        .finish(id(2), ClipKind::Clip, sha256(&bytes))
        .await
        .unwrap();
    assert_eq!(
        read(store, id(2), ClipKind::Clip, 0, 10_000).await.unwrap(),
        bytes
    );
}

pub(crate) async fn a_chunk_at_a_wrong_offset_is_refused_and_nothing_is_lost(
    store: &dyn ClipStore,
) {
    let bytes = data(1000, 2);
    append(store, id(3), 0, &bytes[..400]).await;
    for offered in [0, 399, 401, 5000] {
        let err = store
            .append(id(3), offered, Bytes::from_static(b"stray bytes"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ClipStoreError::WrongOffset { offered: o, have: 400 } if o == offered),
            "{err:?}"
        );
        assert!(err.to_string().contains("resume from 400"), "{err}");
    }
    assert_eq!(
        store.received(id(3)).await.unwrap(),
        400,
        "nothing lost or added"
    );
    append(store, id(3), 400, &bytes[400..]).await;
    store
        .finish(id(3), ClipKind::Clip, sha256(&bytes))
        .await
        .unwrap();
    assert_eq!(
        read(store, id(3), ClipKind::Clip, 0, 1000).await.unwrap(),
        bytes
    );
}

pub(crate) async fn a_wrong_hash_is_refused_and_the_upload_discarded(store: &dyn ClipStore) {
    let bytes = data(500, 3);
    let mut corrupt = bytes.clone();
    corrupt[250] ^= 0x01;
    append(store, id(4), 0, &corrupt).await;
    let err = store
        .finish(id(4), ClipKind::Clip, sha256(&bytes))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClipStoreError::HashMismatch { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("upload it again from 0"), "{err}");
    assert_eq!(store.received(id(4)).await.unwrap(), 0, "discarded");
    assert!(matches!(
        store.size(id(4), ClipKind::Clip).await,
        Err(ClipStoreError::NotFound { .. })
    ));
    // The unit starts again from 0 and this time it checks.
    upload(store, id(4), ClipKind::Clip, &bytes).await;
    assert_eq!(
        read(store, id(4), ClipKind::Clip, 0, 500).await.unwrap(),
        bytes
    );
}

pub(crate) async fn a_finished_object_reads_back_whole_and_by_range(store: &dyn ClipStore) {
    let bytes = data(200_000, 4);
    upload(store, id(5), ClipKind::Clip, &bytes).await;
    assert_eq!(store.received(id(5)).await.unwrap(), 0, "no upload left");
    assert_eq!(store.size(id(5), ClipKind::Clip).await.unwrap(), 200_000);
    assert_eq!(
        read(store, id(5), ClipKind::Clip, 0, 200_000)
            .await
            .unwrap(),
        bytes
    );
    for (start, len) in [
        (0, 1),
        (1000, 1000),
        (65_535, 70_000),
        (199_999, 1),
        (200_000, 0),
    ] {
        let got = read(store, id(5), ClipKind::Clip, start, len)
            .await
            .unwrap();
        assert_eq!(
            got,
            bytes[start as usize..(start + len) as usize],
            "{start}+{len}"
        );
    }
    for (start, len) in [(0, 200_001), (199_999, 2), (300_000, 1), (1, u64::MAX)] {
        let err = read(store, id(5), ClipKind::Clip, start, len)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ClipStoreError::OutOfRange { size: 200_000, .. }),
            "{start}+{len}: {err:?}"
        );
    }
}

pub(crate) async fn an_object_is_named_by_its_id_and_kind(store: &dyn ClipStore) {
    let clip = data(300, 5);
    let thumbnail = data(30, 6);
    upload(store, id(6), ClipKind::Clip, &clip).await;
    assert!(matches!(
        store.size(id(6), ClipKind::Thumbnail).await,
        Err(ClipStoreError::NotFound { .. })
    ));
    upload(store, id(6), ClipKind::Thumbnail, &thumbnail).await;
    assert_eq!(store.size(id(6), ClipKind::Clip).await.unwrap(), 300);
    assert_eq!(store.size(id(6), ClipKind::Thumbnail).await.unwrap(), 30);
    assert_eq!(
        read(store, id(6), ClipKind::Thumbnail, 0, 30)
            .await
            .unwrap(),
        thumbnail
    );
}

pub(crate) async fn a_removed_object_is_gone_and_removing_twice_is_fine(store: &dyn ClipStore) {
    let bytes = data(100, 7);
    upload(store, id(7), ClipKind::Clip, &bytes).await;
    store.remove(id(7), ClipKind::Clip).await.unwrap();
    assert!(matches!(
        store.size(id(7), ClipKind::Clip).await,
        Err(ClipStoreError::NotFound { .. })
    ));
    assert!(matches!(
        read(store, id(7), ClipKind::Clip, 0, 1).await,
        Err(ClipStoreError::NotFound { .. })
    ));
    store.remove(id(7), ClipKind::Clip).await.unwrap();
    store.remove(id(70), ClipKind::Thumbnail).await.unwrap();
}

pub(crate) async fn a_discarded_upload_is_gone_and_discarding_twice_is_fine(store: &dyn ClipStore) {
    let bytes = data(100, 8);
    append(store, id(8), 0, &bytes[..60]).await;
    store.discard(id(8)).await.unwrap();
    assert_eq!(store.received(id(8)).await.unwrap(), 0);
    assert!(matches!(
        store
            .finish(id(8), ClipKind::Clip, sha256(&bytes[..60]))
            .await,
        Err(ClipStoreError::NotFound { .. })
    ));
    store.discard(id(8)).await.unwrap();
    store.discard(id(80)).await.unwrap();
    // It starts again from 0.
    assert_eq!(append(store, id(8), 0, &bytes).await, 100);
}

pub(crate) async fn what_is_missing_is_not_found(store: &dyn ClipStore) {
    let missing = id(9);
    for err in [
        store.size(missing, ClipKind::Clip).await.unwrap_err(),
        read(store, missing, ClipKind::Clip, 0, 0)
            .await
            .unwrap_err(),
        store
            .finish(missing, ClipKind::Clip, sha256(b""))
            .await
            .unwrap_err(),
    ] {
        assert!(
            matches!(err, ClipStoreError::NotFound { id, .. } if id == missing),
            "{err:?}"
        );
        assert!(err.to_string().contains(&missing.to_string()), "{err}");
    }
}

pub(crate) async fn two_uploads_never_mix(store: &dyn ClipStore) {
    let (a, b) = (data(3000, 10), data(2000, 11));
    // Interleaved, as two units' requests are.
    append(store, id(10), 0, &a[..1000]).await;
    append(store, id(11), 0, &b[..500]).await;
    assert_eq!(store.received(id(10)).await.unwrap(), 1000);
    assert_eq!(store.received(id(11)).await.unwrap(), 500);
    append(store, id(11), 500, &b[500..]).await;
    append(store, id(10), 1000, &a[1000..]).await;
    store
        .finish(id(11), ClipKind::Clip, sha256(&b))
        .await
        .unwrap();
    assert_eq!(store.received(id(10)).await.unwrap(), 3000, "a untouched");
    // Finishing one with the other's hash fails and takes only that one.
    assert!(matches!(
        store.finish(id(10), ClipKind::Clip, sha256(&b)).await,
        Err(ClipStoreError::HashMismatch { .. })
    ));
    assert_eq!(
        read(store, id(11), ClipKind::Clip, 0, 2000).await.unwrap(),
        b
    );
    upload(store, id(10), ClipKind::Clip, &a).await;
    store.remove(id(11), ClipKind::Clip).await.unwrap();
    assert_eq!(
        read(store, id(10), ClipKind::Clip, 0, 3000).await.unwrap(),
        a
    );
}
