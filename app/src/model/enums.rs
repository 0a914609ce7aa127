//! Closed vocabularies of the domain, shared by the database (as text columns) and the browser.

#[cfg(feature = "ssr")]
use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};

/// Declares a string-backed enum that the browser can deserialize and, on the server,
/// SeaORM stores as its snake_case name.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
        #[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "String(StringLen::None)"))]
        pub enum $name {
            $($(#[$vmeta])* #[cfg_attr(feature = "ssr", sea_orm(string_value = $text))] $variant),+
        }

        impl $name {
            /// The stored and serialized name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// The value stored or serialized as `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// Whether an account buys from the supplier or sells to it.
    AccountKind { Customer => "customer", Vendor => "vendor" }
);
vocabulary!(AccountStatus { Onboarding => "onboarding", Active => "active", OnHold => "on_hold" });
vocabulary!(ContactRole { Ap => "ap", Billing => "billing", Primary => "primary", Other => "other" });
vocabulary!(EmailStatus {
    Unverified => "unverified",
    Verified => "verified",
    Bounced => "bounced",
    ReportedWrong => "reported_wrong",
});
vocabulary!(AddressKind { Mailing => "mailing", RemitTo => "remit_to", Billing => "billing", Shipping => "shipping" });
vocabulary!(PaymentMethodKind { Card => "card", Ach => "ach", Wallet => "wallet", BankAccount => "bank_account" });
vocabulary!(RecordStatus { Active => "active", PendingReview => "pending_review", Removed => "removed" });
vocabulary!(DocumentKind {
    Invoice => "invoice",
    CreditMemo => "credit_memo",
    Statement => "statement",
    PurchaseOrder => "purchase_order",
    BillOfLading => "bill_of_lading",
    CustomerUpload => "customer_upload",
});
vocabulary!(DocumentStatus {
    Open => "open",
    PaymentPending => "payment_pending",
    Paid => "paid",
    Void => "void",
    Closed => "closed",
});
vocabulary!(PaymentProvider { Sandbox => "sandbox", Stripe => "stripe", Erp => "erp", Manual => "manual" });
vocabulary!(PaymentChannel { Card => "card", Ach => "ach", Wallet => "wallet", Check => "check", Wire => "wire" });

impl PaymentChannel {
    /// The method as the overview's payment list shows it: `CARD`, `ACH`…
    pub fn code(self) -> &'static str {
        match self {
            Self::Card => "CARD",
            Self::Ach => "ACH",
            Self::Wallet => "WALLET",
            Self::Check => "CHECK",
            Self::Wire => "WIRE",
        }
    }
}
vocabulary!(PaymentStatus { Pending => "pending", Succeeded => "succeeded", Failed => "failed" });
vocabulary!(
    /// An Easy Pay checkout: `created` until the provider reports; `pending` while a bank
    /// debit clears; then `completed`, `failed` (the bank returned it) or `expired`.
    PaymentLinkStatus {
        Created => "created",
        Pending => "pending",
        Completed => "completed",
        Failed => "failed",
        Expired => "expired",
    }
);
vocabulary!(PromiseStatus {
    Open => "open",
    Kept => "kept",
    PartiallyKept => "partially_kept",
    Broken => "broken",
    Replaced => "replaced",
});
vocabulary!(DisputeStatus {
    Draft => "draft",
    Open => "open",
    Credited => "credited",
    PartiallyCredited => "partially_credited",
    Rejected => "rejected",
    Withdrawn => "withdrawn",
});
vocabulary!(DisputeReason {
    Price => "price",
    Quantity => "quantity",
    Damaged => "damaged",
    NotReceived => "not_received",
    Duplicate => "duplicate",
    Tax => "tax",
    Other => "other",
});
vocabulary!(ActorKind { Staff => "staff", Contact => "contact", System => "system", Import => "import", Api => "api", Rule => "rule" });
vocabulary!(Channel { StaffUi => "staff_ui", Portal => "portal", MagicLink => "magic_link", Import => "import", Api => "api", System => "system" });
vocabulary!(LinkPurpose {
    Portal => "portal",
    Profile => "profile",
    Pay => "pay",
    WrongPerson => "wrong_person",
    VerifyContact => "verify_contact",
});
vocabulary!(PrincipalKind { Contact => "contact", Staff => "staff" });
vocabulary!(StaffRole { Admin => "admin", Collector => "collector", Viewer => "viewer" });
vocabulary!(TaskKind {
    Call => "call",
    Review => "review",
    Approval => "approval",
    Dispute => "dispute",
    Message => "message",
    Bounce => "bounce",
    WrongPerson => "wrong_person",
    BrokenPromise => "broken_promise",
    Letter => "letter",
});
vocabulary!(TaskStatus { Open => "open", InProgress => "in_progress", Done => "done", Skipped => "skipped" });
vocabulary!(StepTrigger { InvoiceAge => "invoice_age", DaysPastDue => "days_past_due" });
vocabulary!(StepAction { Email => "email", Call => "call", Letter => "letter" });
vocabulary!(TemplateChannel { Email => "email", Letter => "letter" });
vocabulary!(OutboxStatus { Pending => "pending", Sending => "sending", Sent => "sent", Dead => "dead" });
vocabulary!(CampaignKind { ProfileUpdate => "profile_update", DirectMail => "direct_mail" });
vocabulary!(CampaignStatus { Draft => "draft", Running => "running", Done => "done" });
vocabulary!(TargetStatus { Pending => "pending", Sent => "sent", Opened => "opened", Completed => "completed", Bounced => "bounced" });
vocabulary!(
    /// A sensitive profile change: what it touches.
    ChangeKind {
        BankAccount => "bank_account",
        RemitTo => "remit_to",
        Tin => "tin",
        BillingEmail => "billing_email",
    }
);
vocabulary!(
    /// Where a sensitive change stands: waiting for the step-up code, then for staff.
    ChangeStatus {
        AwaitingCode => "awaiting_code",
        PendingReview => "pending_review",
        Approved => "approved",
        Rejected => "rejected",
        Expired => "expired",
    }
);
vocabulary!(
    /// What a CSV import brings in.
    ImportKind {
        Accounts => "accounts",
        Contacts => "contacts",
        Invoices => "invoices",
        Payments => "payments",
        Documents => "documents",
    }
);
vocabulary!(
    /// An import run: `running` while rows are read (a dry run stops at `checked`), then
    /// `applied`; `failed` when it stopped part-way (a later run of the same file resumes).
    ImportStatus { Running => "running", Checked => "checked", Applied => "applied", Failed => "failed" }
);
vocabulary!(
    /// What an API key may do.
    ApiScope { Read => "read", ReadWrite => "read_write" }
);
vocabulary!(
    /// The events a webhook endpoint can subscribe to.
    WebhookEventKind {
        ProfileChanged => "profile.changed",
        PaymentReceived => "payment.received",
        PromiseMade => "promise.made",
        PromiseBroken => "promise.broken",
        DisputeOpened => "dispute.opened",
        DisputeResolved => "dispute.resolved",
    }
);
vocabulary!(DeliveryStatus { Pending => "pending", Delivered => "delivered", Dead => "dead" });
