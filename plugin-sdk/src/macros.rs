//! `register_injector!` / `register_validator!`: generate the component glue inside the
//! plugin crate (WIT bindings, conversions to the friendly types, the export, the
//! `vapr:api-version` custom section), so plugin authors never see the bindings.

/// Conversions shared by both worlds; expanded inside the hidden export module.
#[doc(hidden)]
#[macro_export]
macro_rules! __vapr_common_glue {
    () => {
        #[allow(dead_code)]
        fn sample_in(s: vapr::plugin::types::Sample) -> $crate::Sample {
            $crate::Sample {
                id: s.id,
                question: s.question,
                answer: s.answer,
                category: s.category,
                params: s.params,
                penalty: s.penalty,
                feedback: s.feedback,
            }
        }

        fn info_out(i: $crate::PluginInfo) -> vapr::plugin::types::PluginInfo {
            vapr::plugin::types::PluginInfo {
                id: i.id,
                version: i.version,
                categories: i.categories,
                description: i.description,
                extra: i.extra,
            }
        }

        fn log_sink(level: $crate::Level, message: &str, fields: &[(String, String)]) {
            use vapr::plugin::types::Level as L;
            let level = match level {
                $crate::Level::Trace => L::Trace,
                $crate::Level::Debug => L::Debug,
                $crate::Level::Info => L::Info,
                $crate::Level::Warn => L::Warn,
                $crate::Level::Error => L::Error,
            };
            vapr::plugin::host::log(level, message, fields);
        }

        fn init() {
            $crate::log::__set_sink(log_sink);
        }

        /// The SDK's API version, read by the host before it compiles the plugin.
        #[cfg(target_arch = "wasm32")]
        #[unsafe(link_section = "vapr:api-version")]
        #[used]
        static VAPR_API_VERSION: [u8; 6] = $crate::API_VERSION_BYTES;
    };
}

/// Registers `T: Injector` as this crate's `error-injector` component export.
///
/// ```ignore
/// struct Counting;
/// impl vapr_plugin_sdk::Injector for Counting { /* ... */ }
/// vapr_plugin_sdk::register_injector!(Counting);
/// ```
#[macro_export]
macro_rules! register_injector {
    ($plugin:ty) => {
        #[doc(hidden)]
        type __VaprInjectorPlugin = $plugin;

        #[doc(hidden)]
        mod __vapr_injector_exports {
            $crate::__vapr_generate_injector!();
            $crate::__vapr_common_glue!();

            use vapr::plugin::types as wit;
            type P = super::__VaprInjectorPlugin;

            fn edit_out(
                r: Result<$crate::Edit, $crate::PluginError>,
            ) -> Result<wit::Edit, wit::PluginError> {
                r.map(|e| wit::Edit {
                    rejected: e.rejected,
                    note: e.note,
                    extra: e.extra,
                })
                .map_err(error_out)
            }

            fn error_out(e: $crate::PluginError) -> wit::PluginError {
                match e {
                    $crate::PluginError::Refused(m) => wit::PluginError::Refused(m),
                    $crate::PluginError::BadReply(m) => wit::PluginError::BadReply(m),
                    $crate::PluginError::BadTemplate(m) => wit::PluginError::BadTemplate(m),
                    $crate::PluginError::InvalidInput(m) => wit::PluginError::InvalidInput(m),
                    $crate::PluginError::Internal(m) => wit::PluginError::Internal(m),
                }
            }

            #[allow(dead_code)] // used by `export!` on wasm only
            struct Exports;

            impl exports::vapr::plugin::injection::Guest for Exports {
                fn describe() -> wit::PluginInfo {
                    init();
                    info_out(<P as $crate::Injector>::info())
                }
                fn fit(sample: wit::Sample) -> f32 {
                    init();
                    let score = <P as $crate::Injector>::fit(&sample_in(sample));
                    if score.is_nan() {
                        0.0
                    } else {
                        score.clamp(0.0, 1.0)
                    }
                }
                fn build_prompt(
                    template: String,
                    sample: wit::Sample,
                ) -> Result<String, wit::PluginError> {
                    init();
                    <P as $crate::Injector>::build_prompt(&template, &sample_in(sample))
                        .map_err(error_out)
                }
                fn parse_reply(
                    reply: String,
                    sample: wit::Sample,
                ) -> Result<wit::Edit, wit::PluginError> {
                    init();
                    edit_out(<P as $crate::Injector>::parse_reply(
                        &reply,
                        &sample_in(sample),
                    ))
                }
                fn rule_edit(
                    sample: wit::Sample,
                    seed: u64,
                ) -> Result<wit::Edit, wit::PluginError> {
                    init();
                    edit_out(<P as $crate::Injector>::rule_edit(&sample_in(sample), seed))
                }
            }

            // Only the wasm component exports the interface: natively the exported names
            // (`vapr:plugin/…#…`) are not valid linker symbols, and unit tests need no export.
            #[cfg(target_arch = "wasm32")]
            export!(Exports);
        }
    };
}

/// Registers `T: Validator` as this crate's `validator` component export.
#[macro_export]
macro_rules! register_validator {
    ($plugin:ty) => {
        #[doc(hidden)]
        type __VaprValidatorPlugin = $plugin;

        #[doc(hidden)]
        mod __vapr_validator_exports {
            $crate::__vapr_generate_validator!();
            $crate::__vapr_common_glue!();

            use vapr::plugin::types as wit;
            type P = super::__VaprValidatorPlugin;

            #[allow(dead_code)] // used by `export!` on wasm only
            struct Exports;

            impl exports::vapr::plugin::validation::Guest for Exports {
                fn describe() -> wit::PluginInfo {
                    init();
                    info_out(<P as $crate::Validator>::info())
                }
                fn validate(sample: wit::Sample, chosen: String, rejected: String) -> wit::Verdict {
                    init();
                    let v =
                        <P as $crate::Validator>::validate(&sample_in(sample), &chosen, &rejected);
                    wit::Verdict {
                        pass: v.pass,
                        score: if v.score.is_nan() {
                            0.0
                        } else {
                            v.score.clamp(0.0, 1.0)
                        },
                        reasons: v.reasons,
                        metrics: v.metrics,
                    }
                }
            }

            // Only the wasm component exports the interface: natively the exported names
            // (`vapr:plugin/…#…`) are not valid linker symbols, and unit tests need no export.
            #[cfg(target_arch = "wasm32")]
            export!(Exports);
        }
    };
}
