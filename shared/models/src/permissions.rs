//! Permission sets (`funcscope_category.id`). Ids stay numbers; names are for people.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A permission set id as WeChat sends it. New ids appear over time, so any number is valid.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PermissionId(pub u32);

impl PermissionId {
    /// The English name of a documented permission set, or `None` for one this crate does not
    /// know yet (the id is still kept and stored).
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "Message management",
            2 => "User management",
            3 => "Account services",
            4 => "Web page services",
            5 => "WeChat Store",
            6 => "Multi-agent customer service",
            7 => "Mass messages and notifications",
            8 => "Cards and offers",
            9 => "Scan",
            10 => "Wi-Fi connection",
            11 => "Material management",
            12 => "Shake nearby",
            13 => "Physical stores",
            15 => "Custom menu",
            16 => "Verification status and information",
            17 => "Mini Program account management",
            18 => "Mini Program development management and data analysis",
            19 => "Mini Program customer service messages",
            20 => "Mini Program WeChat login",
            21 => "Mini Program data analysis",
            22 => "City services",
            23 => "Advertising management",
            24 => "Open Platform account management",
            25 => "Open Platform account management (Mini Program)",
            26 => "WeChat e-invoices",
            27 => "Mini Program fast registration",
            _ => return None,
        })
    }

    /// The Chinese name WeChat's console gives the permission set, or `None` for one this
    /// crate does not know yet.
    pub fn name_zh(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "消息管理权限",
            2 => "用户管理权限",
            3 => "帐号服务权限",
            4 => "网页服务权限",
            5 => "微信小店权限",
            6 => "微信多客服权限",
            7 => "群发与通知权限",
            8 => "微信卡券权限",
            9 => "微信扫一扫权限",
            10 => "微信连WIFI权限",
            11 => "素材管理权限",
            12 => "微信摇周边权限",
            13 => "微信门店权限",
            15 => "自定义菜单权限",
            16 => "获取认证状态及信息",
            17 => "帐号管理权限（小程序）",
            18 => "开发管理与数据分析权限（小程序）",
            19 => "客服消息管理权限（小程序）",
            20 => "微信登录权限（小程序）",
            21 => "数据分析权限（小程序）",
            22 => "城市服务接口权限",
            23 => "广告管理权限",
            24 => "开放平台帐号管理权限",
            25 => "开放平台帐号管理权限（小程序）",
            26 => "微信电子发票权限",
            27 => "快速注册小程序权限",
            _ => return None,
        })
    }

    /// The name, or `Permission set <id>` for an id without a documented name.
    pub fn label(self) -> String {
        match self.name() {
            Some(name) => name.to_owned(),
            None => format!("Permission set {}", self.0),
        }
    }
}

impl fmt::Debug for PermissionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PermissionId({})", self.0)
    }
}

impl fmt::Display for PermissionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ids_have_names_and_unknown_ids_keep_their_number() {
        assert_eq!(PermissionId(1).name(), Some("Message management"));
        assert_eq!(PermissionId(999).name(), None);
        assert_eq!(PermissionId(1).name_zh(), Some("消息管理权限"));
        assert_eq!(PermissionId(999).name_zh(), None);
        for id in 1..=27 {
            assert_eq!(
                PermissionId(id).name().is_some(),
                PermissionId(id).name_zh().is_some(),
                "{id} is named in both languages or in neither"
            );
        }
        assert_eq!(PermissionId(999).label(), "Permission set 999");
    }
}
