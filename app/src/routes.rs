//! The staff pages are lazy routes: their code is split out of the main WebAssembly module
//! (`cargo leptos build --split`) into one module that is fetched when a staff page is first
//! shown, so customers never download it. The customer pages stay in the main module, so a
//! customer's first page needs no second request. The server renders both alike.
//!
//! There is one split point (`staff_view`) rather than one per page: per-page splitting
//! made the shared code hundreds of small chunks, each its own request.

use leptos::prelude::*;
use leptos_router::LazyRoute;

use crate::pages;

/// `staff_routes!(Route => pages::module::Page, …)`: the lazy routes, with no route data
/// of their own (each page loads its data in its component), and the one lazily loaded
/// function that renders any of them.
macro_rules! staff_routes {
    ($($route:ident => $page:path),* $(,)?) => {
        /// A staff page, as the argument of the lazily loaded [`staff_view`].
        #[derive(Clone, Copy, Debug)]
        pub enum StaffPage {
            $($route,)*
        }

        /// Renders a staff page. Lazy: in the browser its code (and the code only staff
        /// pages use) is fetched on the first call.
        #[lazy]
        fn staff_view(page: StaffPage) -> AnyView {
            match page {
                $(StaffPage::$route => untrack($page).into_any(),)*
            }
        }

        $(
            #[doc = concat!("The lazily loaded `", stringify!($page), "`.")]
            pub struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    Self
                }

                async fn view(_this: Self) -> AnyView {
                    staff_view(StaffPage::$route).await
                }

                // The router awaits this before it hydrates or shows the page: without it
                // the view would still be loading when hydration reaches it.
                async fn preload() {
                    #[cfg(target_arch = "wasm32")]
                    __preload_staff_view().await;
                }
            }
        )*
    };
}

staff_routes! {
    StaffMessagesRoute => pages::messages::StaffMessagesPage,
    StaffAccountsRoute => pages::accounts::StaffAccountsPage,
    StaffCampaignsRoute => pages::campaigns::StaffCampaignsPage,
    StaffCampaignRoute => pages::campaigns::StaffCampaignPage,
    StaffRulesRoute => pages::reminders::StaffRulesPage,
    StaffImportRoute => pages::import::StaffImportPage,
    StaffApiKeysRoute => pages::api_keys::StaffApiKeysPage,
    StaffWebhooksRoute => pages::webhooks::StaffWebhooksPage,
    StaffInboxRoute => pages::inbox::StaffInboxPage,
    AccountActivityRoute => pages::inbox::AccountActivityPage,
    StaffApprovalsRoute => pages::profile::StaffApprovalsPage,
    StaffAccountRoute => pages::accounts::StaffAccountPage,
    AccountHistoryRoute => pages::audit::AccountHistoryPage,
    SupplierRoute => pages::supplier::SupplierPage,
    StaffDisputesRoute => pages::staff_disputes::StaffDisputesPage,
    StaffDisputeRoute => pages::staff_disputes::StaffDisputePage,
    StaffLettersRoute => pages::letters::StaffLettersPage,
    StaffThreadRoute => pages::messages::StaffThreadPage,
    StaffSignInRoute => pages::staff::StaffSignInPage,
    StaffHomeRoute => pages::staff::StaffHomePage,
    DeadMailRoute => pages::admin::DeadMailPage,
    TemplatesRoute => pages::admin::TemplatesPage,
}
