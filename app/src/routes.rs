//! Lazy routes: their code is split out of the main WebAssembly module (`cargo leptos build
//! --split`) and fetched when one of their pages is first shown. The server renders them
//! like any other route.
//!
//! There are two split points, each one lazily loaded function for a group of pages:
//! - `staff_view`: every staff page, so customers never download them;
//! - `portal_view`: every other page but the account overview and the magic-link page
//!   (invoice and dispute editor, documents, messages, profile, pay link, receipt,
//!   registration, sign-in, the front page), so a customer's way in (`/l/…`, then
//!   `/portal`) loads only the main module.
//!
//! One split point per group rather than one per page: per-page splitting made the shared
//! code hundreds of small chunks, each its own request.

use leptos::prelude::*;
use leptos_router::LazyRoute;

use crate::pages;

/// `lazy_routes!(view_fn, preload_fn, Enum { Route => pages::module::Page, … })`: the lazy
/// routes of one split point, with no route data of their own (each page loads its data in
/// its component), and the one lazily loaded function that renders any of them.
/// `preload_fn` is the `__preload_<view_fn>` that `#[lazy]` makes.
macro_rules! lazy_routes {
    ($view:ident, $preload:ident, $pages:ident { $($route:ident => $page:path),* $(,)? }) => {
        /// A page of this split point, as the argument of its lazily loaded view function.
        #[derive(Clone, Copy, Debug)]
        pub enum $pages {
            $($route,)*
        }

        /// Renders one of the pages. Lazy: in the browser its code (and the code only these
        /// pages use) is fetched on the first call.
        #[lazy]
        fn $view(page: $pages) -> AnyView {
            match page {
                $($pages::$route => untrack($page).into_any(),)*
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
                    $view($pages::$route).await
                }

                // The router awaits this before it hydrates or shows the page: without it
                // the view would still be loading when hydration reaches it.
                async fn preload() {
                    #[cfg(target_arch = "wasm32")]
                    $preload().await;
                }
            }
        )*
    };
}

lazy_routes!(staff_view, __preload_staff_view, StaffPage {
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
});

lazy_routes!(portal_view, __preload_portal_view, PortalPage {
    HomeRoute => pages::home::HomePage,
    SignInRoute => pages::portal::SignInPage,
    WrongPersonRoute => pages::portal::WrongPersonPage,
    DocumentsRoute => pages::documents::DocumentsPage,
    PayLinkRoute => pages::pay::PayLinkPage,
    PortalMessagesRoute => pages::messages::PortalMessagesPage,
    ProfileRoute => pages::profile::ProfilePage,
    InvoiceRoute => pages::invoice::InvoicePage,
    RegisterRoute => pages::register::RegisterPage,
    ReceiptRoute => pages::pay::ReceiptPage,
});
