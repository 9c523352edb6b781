//! Devices and backends: the CPU (burn's Flex backend, or LibTorch with the `tch` feature) or
//! CUDA GPUs (the `cuda` feature). The dev-only `wgpu` feature puts burn's wgpu backend where
//! CUDA would be, so that cubecl's machinery (autotune, kernel compilation, its caches) can be
//! rehearsed on a machine without an NVIDIA GPU, for example on Mesa's software Vulkan driver.

#[cfg(any(feature = "cuda", feature = "wgpu"))]
use crate::runs::gpu_settings::Autotune;
use std::fmt;
use std::str::FromStr;

/// The CPU backend: burn's Flex (pure Rust, the default build).
#[cfg(not(feature = "tch"))]
pub type Cpu = burn::backend::Flex;
/// The CPU backend: LibTorch (the `tch` feature, built against an installed PyTorch's libtorch,
/// see the README's training benchmarks).
#[cfg(feature = "tch")]
pub type Cpu = burn::backend::LibTorch;
/// The CPU backend with automatic differentiation, for training.
pub type CpuTraining = burn::backend::Autodiff<Cpu>;
/// The GPU backend: CUDA.
#[cfg(feature = "cuda")]
pub type Gpu = burn::backend::Cuda;
/// The GPU backend of the dev-only `wgpu` feature (without `cuda`): burn's wgpu backend, which
/// runs on the same cubecl runtime as CUDA, on any Vulkan driver.
#[cfg(all(feature = "wgpu", not(feature = "cuda")))]
pub type Gpu = burn::backend::Wgpu;
/// The GPU backend with automatic differentiation, for training.
#[cfg(any(feature = "cuda", feature = "wgpu"))]
pub type GpuTraining = burn::backend::Autodiff<Gpu>;
/// The CUDA backend without burn's kernel fusion (a run's `gpu.fusion` off): every operation
/// its own kernel.
#[cfg(feature = "cuda")]
pub type GpuUnfused = burn_cubecl::CubeBackend<burn::cubecl::cuda::CudaRuntime, f32, i32, u8>;
/// The wgpu backend without burn's kernel fusion.
#[cfg(all(feature = "wgpu", not(feature = "cuda")))]
pub type GpuUnfused =
    burn::backend::wgpu::CubeBackend<burn::backend::wgpu::WgpuRuntime, f32, i32, u32>;
/// [`GpuUnfused`] with automatic differentiation, for training.
#[cfg(any(feature = "cuda", feature = "wgpu"))]
pub type GpuUnfusedTraining = burn::backend::Autodiff<GpuUnfused>;

/// The [`Cpu`] backend's name, for logs and benchmarks.
pub const CPU_BACKEND: &str = if cfg!(feature = "tch") {
    "libtorch"
} else {
    "flex"
};

/// The CPU device of the [`Cpu`] backend: every CPU tensor the engine makes is made there.
pub fn cpu_device() -> burn::tensor::Device<Cpu> {
    Default::default()
}

/// GPU `index` (CUDA device `index`), with cubecl configured by vitrine first (see
/// [`configure_cubecl`]): every GPU device the engine uses comes from here. The same device
/// serves the fused and the unfused backend.
#[cfg(feature = "cuda")]
pub fn gpu_device(index: usize, autotune: Autotune) -> burn::tensor::Device<Gpu> {
    configure_cubecl(&crate::paths::data_dir().join("cubecl"), autotune);
    burn::backend::cuda::CudaDevice::new(index)
}

/// GPU `index` of the dev-only `wgpu` feature: wgpu's default adapter for 0 (a software
/// Vulkan driver, where no GPU is present), else the discrete GPU of that index; cubecl is
/// configured by vitrine first, as for CUDA.
#[cfg(all(feature = "wgpu", not(feature = "cuda")))]
pub fn gpu_device(index: usize, autotune: Autotune) -> burn::tensor::Device<Gpu> {
    use burn::backend::wgpu::WgpuDevice;
    configure_cubecl(&crate::paths::data_dir().join("cubecl"), autotune);
    match index {
        0 => WgpuDevice::DefaultDevice,
        i => WgpuDevice::DiscreteGpu(i),
    }
}

/// Points cubecl's caches into `root` (the data folder's `cubecl/`) and sets its autotune
/// level, once per process and before its first GPU operation: autotune results in
/// `root/autotune` and compiled kernels in `root/kernels`, so that a second run skips the
/// tuning and compiling the first one paid for. cubecl's defaults would put the tune results
/// beside the nearest `Cargo.toml` (an installed binary has none: then the user's cache
/// folder) and keep no kernel cache. The rest of its settings are its own: a `cubecl.toml` (or
/// `burn.toml`'s `[cubecl]`) in the working folder or above, then `CUBECL_DEBUG_LOG` from the
/// environment (the run's level wins over `CUBECL_AUTOTUNE_LEVEL`). Where cubecl was
/// configured already (an earlier GPU run of this process), it is left as it is: see
/// [`autotune_in_effect`].
#[cfg(any(feature = "cuda", feature = "wgpu"))]
fn configure_cubecl(root: &std::path::Path, autotune: Autotune) {
    use burn::cubecl::config::autotune::AutotuneLevel;
    use burn::cubecl::config::cache::CacheConfig;
    use burn::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if CubeClRuntimeConfig::storage().lock().is_some() {
            return;
        }
        let mut config = CubeClRuntimeConfig::from_current_dir().override_from_env();
        config.autotune.cache = CacheConfig::File(root.join("autotune"));
        config.autotune.level = match autotune {
            Autotune::Minimal => AutotuneLevel::Minimal,
            Autotune::Balanced => AutotuneLevel::Balanced,
            Autotune::Extensive => AutotuneLevel::Extensive,
            Autotune::Full => AutotuneLevel::Full,
        };
        config.compilation.cache = Some(CacheConfig::File(root.join("kernels")));
        CubeClRuntimeConfig::set(config);
    });
}

/// The autotune level cubecl uses in this process (set by its first GPU run).
#[cfg(any(feature = "cuda", feature = "wgpu"))]
pub fn autotune_in_effect() -> Autotune {
    use burn::cubecl::config::autotune::AutotuneLevel;
    use burn::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};
    match CubeClRuntimeConfig::get().autotune.level {
        AutotuneLevel::Minimal => Autotune::Minimal,
        AutotuneLevel::Balanced => Autotune::Balanced,
        AutotuneLevel::Extensive => Autotune::Extensive,
        AutotuneLevel::Full => Autotune::Full,
    }
}

/// One device a model replica runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    /// The CPU (all its cores). Several `cpu` entries train several replicas on it, which
    /// tests data parallelism without GPUs.
    Cpu,
    /// The CUDA GPU of this index.
    Cuda(usize),
}

impl Device {
    /// Whether its backend tunes and compiles kernels per tensor shape (cubecl's autotune on
    /// GPUs), so that batches are padded to a run's constant shapes
    /// ([`crate::ml::data::Shapes`]); the CPU backend has no such cost, and padding would only
    /// add work there (11.5% more photos over a demo epoch).
    pub fn tunes_per_shape(&self) -> bool {
        matches!(self, Device::Cuda(_))
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => write!(f, "cpu"),
            Device::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

/// A device name that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// Not `cpu`, `cuda` or `cuda:N`.
    #[error("unknown device {0:?}: use cpu, cuda or cuda:N (several separated by commas)")]
    Unknown(String),
    /// CPU and GPUs mixed in one run.
    #[error("a run uses either the CPU or GPUs, not both")]
    Mixed,
    /// No device named.
    #[error("no device named")]
    Empty,
    /// A GPU was asked for in a build without the `cuda` feature.
    #[error("this build has no CUDA support: rebuild with `cargo build --release --features cuda`")]
    NoCuda,
}

impl FromStr for Device {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, DeviceError> {
        let s = s.trim();
        match s {
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|i| i.parse().ok())
                .map(Device::Cuda)
                .ok_or_else(|| DeviceError::Unknown(s.to_string())),
        }
    }
}

/// Parses a run's device list: all CPU, or all CUDA (and then only in a `cuda` build).
pub fn parse_devices(names: &[String]) -> Result<Vec<Device>, DeviceError> {
    let devices = names
        .iter()
        .flat_map(|n| n.split(','))
        .filter(|n| !n.trim().is_empty())
        .map(str::parse)
        .collect::<Result<Vec<Device>, _>>()?;
    let gpus = devices
        .iter()
        .filter(|d| matches!(d, Device::Cuda(_)))
        .count();
    if devices.is_empty() {
        return Err(DeviceError::Empty);
    }
    if gpus > 0 && gpus < devices.len() {
        return Err(DeviceError::Mixed);
    }
    if gpus > 0 && !cfg!(any(feature = "cuda", feature = "wgpu")) {
        return Err(DeviceError::NoCuda);
    }
    Ok(devices)
}

/// The devices a new run should use by default: every GPU when this build has CUDA and the
/// machine has GPUs, else the CPU.
pub fn default_devices() -> Vec<Device> {
    let gpus = gpu_count();
    if gpus == 0 {
        vec![Device::Cpu]
    } else {
        (0..gpus).map(Device::Cuda).collect()
    }
}

/// Number of NVIDIA GPUs this build can use: those the driver lists under
/// `/proc/driver/nvidia/gpus` (asking CUDA itself would load the driver on the caller's
/// thread); 0 without the `cuda` feature.
pub fn gpu_count() -> usize {
    if !cfg!(feature = "cuda") {
        return 0;
    }
    std::fs::read_dir("/proc/driver/nvidia/gpus")
        .map(|d| d.count())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(any(feature = "cuda", feature = "wgpu"))]
    #[test]
    fn cubecl_keeps_its_caches_in_the_data_folder() {
        use burn::cubecl::config::cache::CacheConfig;
        use burn::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};
        let root = std::path::Path::new("/data/cubecl");
        configure_cubecl(root, Autotune::Minimal);
        let config = CubeClRuntimeConfig::get();
        assert!(
            matches!(&config.autotune.cache, CacheConfig::File(p) if p == &root.join("autotune"))
        );
        assert!(
            matches!(&config.compilation.cache, Some(CacheConfig::File(p)) if p == &root.join("kernels"))
        );
        assert_eq!(autotune_in_effect(), Autotune::Minimal);
        // Configured once: a second call changes nothing (and does not panic).
        configure_cubecl(std::path::Path::new("/elsewhere"), Autotune::Full);
        assert_eq!(autotune_in_effect(), Autotune::Minimal);
    }

    #[test]
    fn device_lists_parse_and_mixtures_are_refused() {
        assert_eq!(parse_devices(&["cpu".into()]), Ok(vec![Device::Cpu]));
        assert_eq!(
            parse_devices(&["cpu,cpu".into()]),
            Ok(vec![Device::Cpu, Device::Cpu])
        );
        assert!(matches!(
            parse_devices(&["tpu".into()]),
            Err(DeviceError::Unknown(_))
        ));
        assert_eq!(parse_devices(&[]), Err(DeviceError::Empty));
        let gpu = parse_devices(&["cuda:0,cuda:1".into()]);
        if cfg!(feature = "cuda") {
            assert_eq!(gpu, Ok(vec![Device::Cuda(0), Device::Cuda(1)]));
            assert_eq!(parse_devices(&["cpu,cuda".into()]), Err(DeviceError::Mixed));
        } else {
            assert_eq!(gpu, Err(DeviceError::NoCuda));
        }
        assert_eq!(Device::Cuda(1).to_string(), "cuda:1");
    }
}
