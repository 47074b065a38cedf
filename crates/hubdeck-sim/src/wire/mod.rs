//! The JSON the fakes speak, written from the protocols' own documents (Alertmanager's
//! `api/v2/openapi.yaml`, JupyterHub's `rest-api.yml`) and from what the real servers were
//! seen to send, never from hubdeck's client: a client that misreads a protocol must fail
//! against the fake as it would against the real server, not find its mistake mirrored.

pub mod alertmanager;
pub mod jupyterhub;
