//! The console's controllers, which act with its own credential on the global cluster, and the
//! CRDs they own (installed at start, so a new console version brings its schema along).

pub mod clusters;
pub mod plugins;
pub mod shadows;

use std::time::Duration;

use app::{
    clusters::resource::Cluster, plugins::resource::ClusterPlugin,
    upgrades::shadow::ClusterVersionShadow,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api, Client, CustomResourceExt,
    api::{Patch, PatchParams},
    runtime::wait::{await_condition, conditions},
};

/// Every CRD the console owns.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![
        Cluster::crd(),
        ClusterPlugin::crd(),
        ClusterVersionShadow::crd(),
    ]
}

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(
        "installing CRD {name} on the global cluster failed: {source}. The console's credential there needs create and patch on customresourcedefinitions (see the README)."
    )]
    Apply { name: String, source: kube::Error },
    #[error("CRD {name} was not Established within 30 s")]
    NotEstablished { name: String },
}

/// Applies the console's CRDs to `global` and waits until the apiserver serves them.
pub async fn install_crds(global: &Client) -> Result<(), InstallError> {
    let api = Api::<CustomResourceDefinition>::all(global.clone());
    for crd in crds() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        api.patch(
            &name,
            &PatchParams::apply(clusters::MANAGER).force(),
            &Patch::Apply(&crd),
        )
        .await
        .map_err(|source| InstallError::Apply {
            name: name.clone(),
            source,
        })?;
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(api.clone(), &name, conditions::is_crd_established()),
        )
        .await
        .map_err(|_| InstallError::NotEstablished { name: name.clone() })?
        .map_err(|_| InstallError::NotEstablished { name })?;
    }
    Ok(())
}
