//! Which Burn backend runs the model: picked at run time among those compiled in.

use core::fmt;
use core::str::FromStr;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::InferenceError;

/// A backend this project supports; each is also the cargo feature that compiles it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// burn-flex: Burn's pure-Rust CPU backend.
    Flex,
    /// burn-ndarray: CPU, deprecated upstream in Burn 0.22.
    Ndarray,
    /// burn-wgpu: GPU through Vulkan/Metal/DX12 (or a software Vulkan driver).
    Wgpu,
}

impl Backend {
    /// Every backend, compiled in or not.
    pub const ALL: [Backend; 3] = [Backend::Flex, Backend::Ndarray, Backend::Wgpu];

    /// The name used by `--device` and by the cargo feature.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
            Backend::Wgpu => "wgpu",
        }
    }

    /// Whether this build includes the backend.
    pub fn is_compiled(self) -> bool {
        match self {
            Backend::Flex => cfg!(feature = "flex"),
            Backend::Ndarray => cfg!(feature = "ndarray"),
            Backend::Wgpu => cfg!(feature = "wgpu"),
        }
    }

    /// The backends this build includes.
    pub fn compiled() -> Vec<Backend> {
        Self::ALL.into_iter().filter(|b| b.is_compiled()).collect()
    }

    /// The default: `flex` when compiled in, else the first compiled backend.
    pub fn default_compiled() -> Option<Backend> {
        Self::compiled().first().copied()
    }

    /// The device of this backend (without autodiff).
    ///
    /// # Errors
    ///
    /// [`InferenceError::BackendNotCompiled`] naming the cargo feature to enable.
    pub fn device(self) -> Result<Device, InferenceError> {
        match self {
            #[cfg(feature = "flex")]
            Backend::Flex => Ok(Device::flex()),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            // burn-ndarray is deprecated upstream; kept for the design's sake.
            Backend::Ndarray => Ok(Device::ndarray()),
            // The adapter is wgpu's choice, or CUBECL_WGPU_DEFAULT_DEVICE's (e.g. `Cpu` for a
            // software Vulkan driver).
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
            #[allow(unreachable_patterns)]
            other => Err(InferenceError::BackendNotCompiled { name: other.name() }),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = InferenceError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|b| b.name() == name)
            .ok_or_else(|| InferenceError::UnknownName {
                what: "device",
                value: name.to_string(),
                expected: Self::ALL.map(Backend::name).join(", "),
            })
    }
}
